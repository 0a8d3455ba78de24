// What the loaders share: reading a file whole, and sizes. Files come from anywhere, and a small file may declare
// or inflate to a huge tensor. Every size is checked by Tensor::allocate; these add the
// user's own ceiling and a word when a file grows much larger in memory than on disk.
#pragma once
#include <cstddef>
#include <string>

#include "pipeline/schema.h"

namespace untangle {

// A data file's whole content; the error names the path ("PATH: cannot open").
std::string read_file_bytes(const std::string& path);

// `max_bytes`: refuse any tensor larger than this (0: only what the machine cannot hold).
// Unhashed: it never changes an output, only whether there is one.
ParamSpec max_bytes_param();
std::size_t max_bytes(const OpContext& ctx);

// Logs "what: 1.0 GiB in memory from 1.0 MiB of file" when a tensor is both large and far
// larger than its file (a compressed archive, an HDF5 fill value), so it never happens unsaid.
void note_expansion(OpContext& ctx, const std::string& what, const Tensor& t, std::size_t file_bytes);

}  // namespace untangle
