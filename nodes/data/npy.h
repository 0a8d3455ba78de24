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
// The shape is checked against the bytes present before anything is allocated; a tensor of
// more than `max_bytes` (when nonzero) is refused.
Tensor parse_npy(const std::string& bytes, const std::string& name, std::size_t max_bytes = 0);

// The member `key` (or `key`.npy) of an .npz archive's bytes. A deflated member is inflated
// only after its .npy header agrees with the size the zip declares, and never past it.
Tensor parse_npz(const std::string& zip, const std::string& key, const std::string& name, std::size_t max_bytes = 0);

// The array in an .npy file, or with `key` nonempty the member `key` of an .npz archive.
// Errors name the file and the member.
Tensor read_npy(const std::string& path, const std::string& key, std::size_t max_bytes = 0);

}  // namespace untangle
