#include "nodes/nn/maxpool2d.h"

#include "nodes/nn/kernels.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace untangle::nn {

Shape MaxPool2D::build(const Shape& in) {
  if (in.size() != 3)
    throw std::invalid_argument("MaxPooling2D takes inputs of shape {height, width, channels} (input shape has " +
                                std::to_string(in.size()) + " axes)");
  if (!pool_) throw std::invalid_argument("MaxPooling2D pool must be at least 1");
  if (in[0] < pool_ || in[1] < pool_)
    throw std::invalid_argument("MaxPooling2D pool (" + std::to_string(pool_) + ") is larger than its input (" +
                                std::to_string(in[0]) + "x" + std::to_string(in[1]) + ")");
  if (volume(in) > UINT32_MAX) throw std::invalid_argument("MaxPooling2D input too large for its indices");
  in_shape = in;
  out_shape = {(in[0] - pool_) / stride_ + 1, (in[1] - pool_) / stride_ + 1, in[2]};
  return out_shape;
}

void MaxPool2D::forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass&) const {
  s.idx.resize(n * volume(out_shape));
  kernels().maxpool_forward(x, n, in_shape[0], in_shape[1], in_shape[2], pool_, stride_, out_shape[0], out_shape[1], y,
                            s.idx.data());
}

void MaxPool2D::backward(const float*, const float*, const float* dy, float* dx, std::size_t n,
                         std::vector<std::vector<float>>&, Scratch& s) const {
  if (!dx) return;
  const std::size_t in = volume(in_shape), out = volume(out_shape);
  std::fill(dx, dx + n * in, 0.0f);
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t o = 0; o < out; ++o) dx[b * in + s.idx[b * out + o]] += dy[b * out + o];  // windows may overlap
}

}  // namespace untangle::nn
