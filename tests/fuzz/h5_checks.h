// For the targets whose loaders open HDF5 files; each includes this header once.
#pragma once
#include <hdf5.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

// HDF5 allocates what a damaged file's metadata declares, with malloc, and refuses the file
// when malloc returns null: as it does outside the sanitizer, so that a hostile size in the
// library is the error it is in use. The project's own allocations go through operator new,
// which still reports any it cannot satisfy, as -malloc_limit_mb does any over the limit.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

// HDF5 1.10 (Debian's, not instrumented) loses metadata-cache entries it read from a damaged
// file when a call on it fails half-way: a few hundred bytes per file that no pointer reaches.
// Without frame pointers in the library, such a leak's stack ends at its first frame there,
// so the library is named as a whole; check_all_closed below keeps a leak of ours visible.
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }

namespace untangle::fuzz {

// The identifiers in use of every kind a loader opens: files, groups, datasets, attributes,
// types, spaces and property lists.
inline std::vector<hsize_t> hdf5_ids() {
  std::vector<hsize_t> n;
  for (H5I_type_t t : {H5I_FILE, H5I_GROUP, H5I_DATASET, H5I_ATTR, H5I_DATATYPE, H5I_DATASPACE, H5I_GENPROP_LST}) {
    hsize_t k = 0;
    H5Inmembers(t, &k);
    n.push_back(k);
  }
  return n;
}

// HDF5 prints its error stack on every refused file; the fuzzer's own output is what counts.
// Returns the identifiers the library itself holds.
inline std::vector<hsize_t> start_hdf5() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  return hdf5_ids();
}

// The identifiers HDF5 holds once started, before the first input.
inline std::vector<hsize_t> library_ids;

// A loader closes every identifier it opens, failing or not: HDF5 keeps a file and its memory
// for as long as one of its objects is open. This is also what lets the suppression above
// ignore HDF5's own leaks on damaged files without hiding one of ours.
inline void check_all_closed(const std::vector<hsize_t>& before) {
  if (hdf5_ids() == before) return;
  std::fprintf(stderr, "HDF5 identifiers left open (files, groups, datasets, attributes, types, spaces, lists):");
  for (std::size_t i = 0; i < before.size(); ++i)
    std::fprintf(stderr, " %llu", static_cast<unsigned long long>(hdf5_ids()[i] - before[i]));
  std::fprintf(stderr, "\n");
  std::abort();
}

}  // namespace untangle::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  untangle::fuzz::library_ids = untangle::fuzz::start_hdf5();
  return 0;
}
