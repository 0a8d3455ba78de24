#include "nodes/data/hdf5.h"

#include <hdf5.h>

#include <stdexcept>
#include <vector>

#include "pipeline/h5_stored.h"

namespace untangle {

namespace {

// Owns one HDF5 identifier.
struct Hid {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Hid() {
    if (id >= 0) close(id);
  }
  operator hid_t() const { return id; }
};

// HDF5 prints a stack of its own on every failed call; the op reports its own message instead.
// The setting is per thread, so it is saved and restored around the op's calls.
struct QuietHdf5 {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_BITFIELD: return "bitfield";
    case H5T_TIME: return "time";
    default: return "unknown";
  }
}

// The dataset's type → the tensor's dtype and the native memory type HDF5 converts it to.
// Unsigned 16- and 32-bit integers widen to the next signed type, which holds every value.
std::pair<DType, hid_t> dtype_of_h5(hid_t type, const std::string& what) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_INTEGER) {
    const bool sign = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 1) return sign ? std::make_pair(DType::i8, H5T_NATIVE_INT8) : std::make_pair(DType::u8, H5T_NATIVE_UINT8);
    if (size == 2) return sign ? std::make_pair(DType::i16, H5T_NATIVE_INT16) : std::make_pair(DType::i32, H5T_NATIVE_INT32);
    if (size == 4) return sign ? std::make_pair(DType::i32, H5T_NATIVE_INT32) : std::make_pair(DType::i64, H5T_NATIVE_INT64);
    if (size == 8 && sign) return {DType::i64, H5T_NATIVE_INT64};
    throw std::runtime_error(what + " holds " + (sign ? "" : "unsigned ") + std::to_string(8 * size) +
                             "-bit integers, which no tensor type holds");
  }
  if (cls == H5T_FLOAT) {
    if (size == 4) return {DType::f32, H5T_NATIVE_FLOAT};
    if (size == 8) return {DType::f64, H5T_NATIVE_DOUBLE};
    throw std::runtime_error(what + " holds " + std::to_string(8 * size) +
                             "-bit floats; only 32- and 64-bit ones are read");
  }
  throw std::runtime_error(what + " is not numeric (HDF5 " + class_name(cls) + " type)");
}

// External links are never followed: HDF5 asks this before opening the other file, and the
// refusal is remembered so that the message can say what the path reached.
struct ExternalSeen {
  std::string target;  // "other.h5:/data"
};

herr_t refuse_external(const char*, const char*, const char* file, const char* object, unsigned*, hid_t, void* seen) {
  static_cast<ExternalSeen*>(seen)->target = std::string(file) + ":" + object;
  return -1;
}

// Where the dataset's data lives must be this file: external raw storage and virtual datasets
// keep it elsewhere, where the key does not look.
void check_storage(hid_t d, const std::string& what) {
  Hid dcpl{H5Dget_create_plist(d), H5Pclose};
  if (dcpl < 0) throw std::runtime_error(what + " cannot be read (damaged file?)");
  const int external = H5Pget_external_count(dcpl);
  if (external > 0) {
    char file[256] = "";
    off_t offset = 0;
    hsize_t size = 0;
    H5Pget_external(dcpl, 0, sizeof file, file, &offset, &size);
    throw std::runtime_error(what + " keeps its data in " + std::to_string(external) + " external file" +
                             (external == 1 ? "" : "s") + " ('" + file + "'" + (external > 1 ? ", …" : "") +
                             "), which the cache key would not hold; store the data in the file itself");
  }
  if (H5Pget_layout(dcpl) == H5D_VIRTUAL)
    throw std::runtime_error(what + " is a virtual dataset, whose data lies in its source datasets, which the cache key "
                             "would not hold; store the data in the file itself");
}

Tensor read_dataset(hid_t file, const std::string& path, const std::string& name, std::size_t max_bytes) {
  const std::string what = path + ": dataset '" + name + "'";
  ExternalSeen seen;
  Hid dapl{H5Pcreate(H5P_DATASET_ACCESS), H5Pclose};  // a link access list too
  H5Pset_elink_cb(dapl, refuse_external, &seen);
  // H5Dopen on a path whose groups are missing fails the same way as on a missing leaf.
  Hid d{H5Dopen2(file, name.c_str(), dapl), H5Dclose};
  if (!seen.target.empty())
    throw std::runtime_error(what + " is reached through an external link to " + seen.target +
                             ", whose contents the cache key would not hold; copy the data into this file");
  if (d < 0) throw std::runtime_error(path + ": no dataset '" + name + "'");
  check_storage(d, what);
  Hid type{H5Dget_type(d), H5Tclose};
  const auto [dtype, memtype] = dtype_of_h5(type, what);
  Hid space{H5Dget_space(d), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0 || H5Sget_simple_extent_type(space) == H5S_NULL) throw std::runtime_error(what + " has no data space");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  const std::vector<std::size_t> shape(dims.begin(), dims.end());
  std::size_t count;
  try {
    count = element_count(shape);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
  std::size_t need;
  if (__builtin_mul_overflow(count, H5Tget_size(type), &need)) need = ~std::size_t{0};
  check_stored_bytes(file, d, need, what);
  Tensor t = Tensor::allocate(dtype, shape, what, max_bytes);
  if (!t.bytes.empty() && H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.bytes.data()) < 0)
    throw std::runtime_error(what + " cannot be read (damaged file?)");
  return t;
}

Hid open_file(const std::string& path, hid_t fapl) {
  // Nothing writes the file while it is read; locking would only fail on some shared file systems.
  H5Pset_file_locking(fapl, false, true);
  Hid file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose};
  if (file < 0) throw std::runtime_error(path + ": cannot open as an HDF5 file");
  return file;
}

}  // namespace

Tensor read_hdf5(const std::string& path, const std::string& dataset, std::size_t max_bytes) {
  QuietHdf5 quiet;
  Hid fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  Hid file = open_file(path, fapl);
  return read_dataset(file, path, dataset, max_bytes);
}

Tensor read_hdf5_image(const std::string& image, const std::string& dataset, const std::string& name,
                       std::size_t max_bytes) {
  QuietHdf5 quiet;
  Hid fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  // The core driver reads from memory; without a backing store nothing is ever written.
  H5Pset_fapl_core(fapl, 1 << 16, 0);
  H5Pset_file_image(fapl, const_cast<char*>(image.data()), image.size());
  Hid file = open_file(name, fapl);
  return read_dataset(file, name, dataset, max_bytes);
}

}  // namespace untangle
