// Data ops: loading MNIST, IDX, CSV, NumPy and HDF5 files, taking subsets, joining sets, describing a set.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema load_mnist_op();
OpSchema load_idx_op();
OpSchema load_csv_op();
OpSchema subset_op();
OpSchema concat_op();
OpSchema describe_op();
OpSchema load_npy_op();
OpSchema load_hdf5_op();

}  // namespace untangle
