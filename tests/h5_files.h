// HDF5 files written with the C API, for load_hdf5's and the pinned-output tests.
#pragma once
#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace untangle::test {

struct H5Dataset {
  std::string name;           // a path; missing groups are created
  hid_t file_type;            // how the file stores it, e.g. H5T_STD_I16BE
  hid_t mem_type;             // what `data` holds, e.g. H5T_NATIVE_INT16
  std::vector<hsize_t> dims;  // empty: a scalar
  const void* data;
};

// Objects carry no modification times, so the same datasets always give the same bytes (the
// pinned-output test hashes the file).
inline void write_h5(const std::string& path, const std::vector<H5Dataset>& sets) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) throw std::runtime_error("cannot create " + path);
  const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(gcpl, false);
  H5Pset_obj_track_times(dcpl, false);
  for (const auto& s : sets) {
    for (auto slash = s.name.find('/', 1); slash != std::string::npos; slash = s.name.find('/', slash + 1)) {
      const std::string group = s.name.substr(0, slash);
      if (H5Lexists(f, group.c_str(), H5P_DEFAULT) <= 0)
        H5Gclose(H5Gcreate2(f, group.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT));
    }
    const hid_t space = s.dims.empty() ? H5Screate(H5S_SCALAR)
                                       : H5Screate_simple(static_cast<int>(s.dims.size()), s.dims.data(), nullptr);
    const hid_t d = H5Dcreate2(f, s.name.c_str(), s.file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0 || (s.data && H5Dwrite(d, s.mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data) < 0))
      throw std::runtime_error("cannot write " + s.name + " in " + path);
    H5Dclose(d);
    H5Sclose(space);
  }
  H5Pclose(gcpl);
  H5Pclose(dcpl);
  H5Fclose(f);
}

}  // namespace untangle::test
