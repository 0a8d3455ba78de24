// Hot element-wise loops, in a file of their own so that it alone is compiled with
// -ffast-math: that lets GCC call glibc's vectorised expf. The results depend only on the
// inputs, never on threads.
#pragma once
#include <cstddef>

namespace untangle::nn {

void sigmoid_inplace(float* v, std::size_t n);

}  // namespace untangle::nn
