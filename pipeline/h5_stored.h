// What an HDF5 dataset declares against what its file can hold, before anything is sized by
// it. The file comes from anywhere (a user's data, an exec program's output), and HDF5 sizes
// its reads by what the file's metadata says, so a damaged or hostile file could ask for far
// more memory than it holds data.
#pragma once
#include <hdf5.h>

#include <cstddef>
#include <string>

namespace untangle {

// Throws std::runtime_error("<what> declares N bytes of data; the file holds M (…)") when the
// dataset `dataset` of `file` declares `need` bytes and cannot hold them: unfiltered data must
// all be stored; deflate packs at most 1032 bytes into one, so filtered data may be at most that
// many times its stored bytes. The stored bytes are what the dataset's layout says, but never
// more than the whole file: the layout is the file's word too.
void check_stored_bytes(hid_t file, hid_t dataset, std::size_t need, const std::string& what);

}  // namespace untangle
