// Projection ops: points of many dimensions to a few.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema pca_op();
OpSchema tsne_op();

}  // namespace untangle
