// HDF5 files that users bring (load_hdf5's data, an exec program's outputs) are read in a
// process of their own, untangle-read-hdf5, which sends the tensors back through a pipe.
// Debian's libhdf5 1.10 has memory errors of its own on damaged files (tests/fuzz finds them
// within seconds: reads through null or freed pointers, overruns); in a child, such a file
// fails the one node that reads it with a message, instead of taking the whole run down.
#pragma once
#include <cstddef>
#include <cstdio>
#include <string>

#include "pipeline/schema.h"

namespace untangle {

// read_hdf5(path, dataset, max_bytes) (hdf5.h), run in untangle-read-hdf5.
Tensor read_hdf5_in_child(const std::string& path, const std::string& dataset, std::size_t max_bytes = 0);

// read_h5_file(path) (pipeline/store.h): every dataset at the file's root, run in
// untangle-read-hdf5.
Outputs read_h5_file_in_child(const std::string& path);

// The wire between the two: what untangle-read-hdf5 writes to `out`, and the tensors read back
// from those bytes (what the parent does with the pipe). Every size the stream declares is checked
// against memory (and `max_bytes`, when nonzero) before it sizes anything, and a stream that
// ends early or holds anything else is an error.
void write_tensors(std::FILE* out, const Outputs& tensors);
Outputs read_tensors(const std::string& stream, std::size_t max_bytes = 0);

// The reader's path: beside the running executable (as installed, and in the build tree),
// else the build tree's.
std::string hdf5_reader_path();

}  // namespace untangle
