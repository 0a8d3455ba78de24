#include "nodes/nn/simple_layers.h"

#include <algorithm>

namespace untangle::nn {

Shape Flatten::build(const Shape& in) {
  in_shape = in;
  out_shape = {volume(in)};
  return out_shape;
}

void Flatten::forward(const float* x, float* y, std::size_t n, Scratch&, const Pass&) const {
  std::copy(x, x + n * out_shape[0], y);  // row-major NHWC is already flat per sample
}

void Flatten::backward(const float*, const float*, const float* dy, float* dx, std::size_t n,
                       std::vector<std::vector<float>>&, Scratch&) const {
  if (dx) std::copy(dy, dy + n * out_shape[0], dx);
}

Shape Activation::build(const Shape& in) {
  in_shape = out_shape = in;
  return out_shape;
}

void Activation::forward(const float* x, float* y, std::size_t n, Scratch&, const Pass&) const {
  const std::size_t width = in_shape.empty() ? 1 : in_shape.back();
  const std::size_t rows = n * volume(in_shape) / width;  // softmax acts on the last axis
  std::copy(x, x + n * volume(in_shape), y);
  activate(act_, y, rows, width);
}

void Activation::backward(const float*, const float* y, const float* dy, float* dx, std::size_t n,
                          std::vector<std::vector<float>>&, Scratch&) const {
  if (!dx) return;
  const std::size_t width = in_shape.empty() ? 1 : in_shape.back();
  activate_backward(act_, y, dy, dx, n * volume(in_shape) / width, width);
}

Shape Dropout::build(const Shape& in) {
  in_shape = out_shape = in;
  return out_shape;
}

void Dropout::forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass& p) const {
  const std::size_t total = n * volume(in_shape);
  if (!p.training || rate_ <= 0) {
    std::copy(x, x + total, y);
    s.f.clear();
    return;
  }
  Rng rng(p.seed);
  const float scale = static_cast<float>(1.0 / (1.0 - rate_));
  s.f.resize(total);
  for (std::size_t i = 0; i < total; ++i) {
    s.f[i] = rng.uniform() >= rate_ ? scale : 0.0f;
    y[i] = x[i] * s.f[i];
  }
}

void Dropout::backward(const float*, const float*, const float* dy, float* dx, std::size_t n,
                       std::vector<std::vector<float>>&, Scratch& s) const {
  if (!dx) return;
  const std::size_t total = n * volume(in_shape);
  if (s.f.empty()) return (void)std::copy(dy, dy + total, dx);
  for (std::size_t i = 0; i < total; ++i) dx[i] = dy[i] * s.f[i];
}

}  // namespace untangle::nn
