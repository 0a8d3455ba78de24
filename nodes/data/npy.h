// NumPy's .npy format and .npz archives of them, read without Python: a magic string, a
// version, a Python-literal header (dtype, order, shape), then the raw array. An .npz is a zip
// of .npy members, stored or deflated; its central directory is read here, members inflated
// with zlib.
#pragma once
#include <string>
#include <vector>

#include "pipeline/tensor.h"

namespace untangle {

// An .npy file's bytes → a row-major, little-endian tensor. `name` goes into every error.
// Numeric dtypes map to the nearest lossless DType (bool → u8, uint16 → i32, uint32 → i64);
// uint64, float16, complex, structured and object arrays are refused. Pickles never run.
Tensor parse_npy(const std::string& bytes, const std::string& name);

// The array in an .npy file, or with `key` nonempty the member `key` (or `key`.npy) of an
// .npz archive. Errors name the file and the member.
Tensor read_npy(const std::string& path, const std::string& key);

}  // namespace untangle
