// untangle-read-hdf5: reads HDF5 files for untangle in a process of its own (hdf5_child.h)
// and writes the tensors to standard output; an error is a message on standard error and
// exit status 1, usage exit status 2.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "nodes/data/hdf5.h"
#include "nodes/data/hdf5_child.h"
#include "pipeline/store.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNTANGLE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNTANGLE_ASAN 1
#endif
#endif

namespace {

// libhdf5 sizes its own buffers by what a damaged file's metadata says, and may fill them: a
// file of a few kilobytes has made it take 24 GB. So the process may grow by twice what the
// file can hold (its size, times deflate's largest ratio, 1032; at most max_bytes when set),
// for the tensor and one copy of it in HDF5's buffers, and 256 MiB for the rest. Past that an
// allocation fails, which HDF5 reports as an error. (Not under AddressSanitizer, which reserves
// terabytes of address space for itself.)
void limit_memory(const std::string& file, unsigned long long max_bytes) {
#ifndef UNTANGLE_ASAN
  std::error_code ec;
  const unsigned long long size = std::filesystem::file_size(file, ec);
  if (ec) return;  // the read reports it
  unsigned long long holds = size > ~0ULL / 1032 ? ~0ULL : size * 1032;
  if (max_bytes > 0) holds = std::min(holds, max_bytes);
  unsigned long long now = 0;
  std::ifstream("/proc/self/statm") >> now;  // pages of address space in use
  now *= static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE));
  const unsigned long long extra = 256ULL << 20;
  const unsigned long long limit = holds > (~0ULL - now - extra) / 2 ? ~0ULL : now + extra + 2 * holds;
  rlimit r{};
  if (::getrlimit(RLIMIT_AS, &r) == 0 && (r.rlim_cur == RLIM_INFINITY || limit < r.rlim_cur)) {
    r.rlim_cur = limit;
    ::setrlimit(RLIMIT_AS, &r);
  }
#else
  (void)file, (void)max_bytes;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  using namespace untangle;
  const std::string mode = argc > 1 ? argv[1] : "";
  if (!((mode == "dataset" && argc == 5) || (mode == "file" && argc == 3))) {
    std::fprintf(stderr,
                 "usage: untangle-read-hdf5 dataset FILE DATASET MAX_BYTES   one dataset, as load_hdf5 reads it\n"
                 "       untangle-read-hdf5 file FILE                        every dataset at the root, as exec's outputs\n"
                 "  Writes the tensors to standard output in untangle's own stream (nodes/data/hdf5_child.h).\n"
                 "  untangle runs it; it reads HDF5 files in a process of its own, since libhdf5 may crash on\n"
                 "  damaged ones.\n");
    return (argc == 2 && (mode == "-h" || mode == "--help")) ? 0 : 2;
  }
  const unsigned long long max_bytes = mode == "dataset" ? std::strtoull(argv[4], nullptr, 10) : 0;
  limit_memory(argv[2], max_bytes);
  try {
    Outputs out;
    if (mode == "dataset") {
      out[argv[3]] = read_hdf5(argv[2], argv[3], max_bytes);
    } else {
      out = read_h5_file(argv[2]);
    }
    write_tensors(stdout, out);
    // Not through exit(): libhdf5's own clean-up at exit is where some damaged files crash it,
    // after the tensors are out.
    std::_Exit(0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::fflush(stderr);
    std::_Exit(1);
  }
}
