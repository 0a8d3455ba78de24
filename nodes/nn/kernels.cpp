#include "nodes/nn/kernels.h"

#include <cmath>

namespace untangle::nn {

void sigmoid_inplace(float* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) v[i] = 1.0f / (1.0f + std::exp(-v[i]));
}

}  // namespace untangle::nn
