// The IDX format of the MNIST files: a magic number (two zero bytes, a type code, the rank),
// big-endian 32-bit dimensions, then big-endian data. Any type and rank; plain or gzipped.
#pragma once
#include <string>

#include "pipeline/tensor.h"

namespace untangle {

// Throws std::runtime_error naming the file for a wrong magic number, an unknown type, a
// truncated file or trailing bytes.
Tensor read_idx(const std::string& path);

}  // namespace untangle
