#include <hdf5.h>

#include <stdexcept>

#include "nodes/data/ops.h"

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

Tensor read_dataset(hid_t file, const std::string& path, const std::string& name) {
  const std::string what = path + ": dataset '" + name + "'";
  // H5Dopen on a path whose groups are missing fails the same way as on a missing leaf.
  Hid d{H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose};
  if (d < 0) throw std::runtime_error(path + ": no dataset '" + name + "'");
  Hid type{H5Dget_type(d), H5Tclose};
  const auto [dtype, memtype] = dtype_of_h5(type, what);
  Hid space{H5Dget_space(d), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0 || H5Sget_simple_extent_type(space) == H5S_NULL) throw std::runtime_error(what + " has no data space");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  Tensor t;
  t.dtype = dtype;
  t.shape.assign(dims.begin(), dims.end());
  t.bytes.resize(t.size() * dtype_size(dtype));
  if (!t.bytes.empty() && H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.bytes.data()) < 0)
    throw std::runtime_error(what + " cannot be read (damaged file?)");
  return t;
}

Outputs run(OpContext& ctx) {
  const std::string path = ctx.string("file");
  QuietHdf5 quiet;
  Hid fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  // Nothing writes the file while it is read; locking would only fail on some shared file systems.
  H5Pset_file_locking(fapl, false, true);
  Hid file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose};
  if (file < 0) throw std::runtime_error(path + ": cannot open as an HDF5 file");
  Outputs out;
  out["x"] = read_dataset(file, path, ctx.string("x"));
  // Every declared output must exist; an empty one stands for "no labels".
  out["y"] = ctx.string("y").empty() ? Tensor::zeros<std::uint8_t>({0}) : read_dataset(file, path, ctx.string("y"));
  return out;
}

}  // namespace

OpSchema load_hdf5_op() {
  OpSchema op;
  op.name = "load_hdf5";
  op.doc =
      "Datasets of an HDF5 file, any rank, as tensors.\nIntegers and floats map to the tensor type of their size "
      "and sign (uint16 → int32 and uint32 → int64, which hold every value); uint64, float16, strings, compounds "
      "and enums (h5py's booleans) are errors.\nThe file enters the cache key by content, not by path; the "
      "dataset names by value.";
  op.outputs = {{"x", "the dataset x"}, {"y", "the dataset y; empty (uint8 [0]) when y is not given"}};
  ParamSpec file{"file", ParamType::path, "the HDF5 file (relative to the working directory)", std::nullopt};
  file.hashed = false;
  op.params = {file,
               {"x", ParamType::string, "the dataset's path in the file, e.g. /train/images", std::nullopt},
               {"y", ParamType::string, "a second dataset, e.g. /train/labels; optional", "\"\""}};
  op.files = [](const YAML::Node& params) { return std::vector<std::string>{params["file"].as<std::string>()}; };
  op.run = run;
  return op;
}

}  // namespace untangle
