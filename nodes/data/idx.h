// The IDX format of the MNIST files: a magic number (two zero bytes, a type code, the rank),
// big-endian 32-bit dimensions, then big-endian data. Any type and rank; plain or gzipped.
#pragma once
#include <cstddef>
#include <string>

#include "pipeline/tensor.h"

namespace untangle {

// An IDX file's bytes, plain or gzipped, → a native tensor. `name` goes into every error:
// a wrong magic number, an unknown type, a truncated file or trailing bytes. Sizes come from
// the header and are checked before anything is allocated; gzipped data is inflated as it is
// used, never past the header's size. A tensor over `max_bytes` (when nonzero) is refused.
Tensor parse_idx(const std::string& bytes, const std::string& name, std::size_t max_bytes = 0);

// The IDX file at `path`, as parse_idx.
Tensor read_idx(const std::string& path, std::size_t max_bytes = 0);

}  // namespace untangle
