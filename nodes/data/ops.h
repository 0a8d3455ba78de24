// Data ops: loading MNIST, IDX and CSV files, taking subsets, describing a set.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema load_mnist_op();
OpSchema load_idx_op();
OpSchema load_csv_op();
OpSchema subset_op();
OpSchema describe_op();

}  // namespace untangle
