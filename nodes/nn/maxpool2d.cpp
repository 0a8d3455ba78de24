#include "nodes/nn/maxpool2d.h"

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
  const std::size_t W = in_shape[1], C = in_shape[2], OH = out_shape[0], OW = out_shape[1];
  const std::size_t in = volume(in_shape), out = volume(out_shape);
  s.idx.resize(n * out);
  for (std::size_t b = 0; b < n; ++b) {
    const float* xs = x + b * in;
    for (std::size_t oh = 0; oh < OH; ++oh)
      for (std::size_t ow = 0; ow < OW; ++ow) {
        const std::size_t o = b * out + (oh * OW + ow) * C;
        // Window positions in row-major order; a strict > keeps the first maximum. One channel at
        // a time in registers: a select, not a branch, as the comparisons are unpredictable.
        const std::size_t first = (oh * stride_ * W + ow * stride_) * C;
        for (std::size_t c = 0; c < C; ++c) {
          float best = xs[first + c];
          std::size_t at = first + c;
          for (std::size_t i = 0; i < pool_; ++i)
            for (std::size_t j = 0; j < pool_; ++j) {
              const std::size_t p = first + (i * W + j) * C + c;
              const bool more = xs[p] > best;
              best = more ? xs[p] : best;
              at = more ? p : at;
            }
          y[o + c] = best;
          s.idx[o + c] = static_cast<std::uint32_t>(at);
        }
      }
  }
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
