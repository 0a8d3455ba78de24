// Datasets of HDF5 files as tensors, for load_hdf5. The file comes from anywhere, so what it
// declares is checked before it is used: sizes against memory and against the bytes stored,
// and nothing is read from another file (external links, external raw storage, virtual
// datasets), since the cache key holds this file's bytes only.
#pragma once
#include <cstddef>
#include <string>

#include "pipeline/tensor.h"

namespace untangle {

// The dataset at `dataset` (a path such as /train/images) of the HDF5 file at `path`.
// Errors name the file and the dataset.
Tensor read_hdf5(const std::string& path, const std::string& dataset, std::size_t max_bytes = 0);

// The same from a file's bytes in memory (HDF5's file image); `name` stands for the file in
// messages.
Tensor read_hdf5_image(const std::string& image, const std::string& dataset, const std::string& name,
                       std::size_t max_bytes = 0);

}  // namespace untangle
