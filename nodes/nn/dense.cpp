#include "nodes/nn/dense.h"

#include <stdexcept>

#include "nodes/numeric/gemm.h"

namespace untangle::nn {

Shape Dense::build(const Shape& in) {
  if (in.size() != 1)
    throw std::invalid_argument("Dense takes flat inputs; add a flatten layer before it (input shape has " +
                                std::to_string(in.size()) + " axes)");
  in_shape = in;
  out_shape = {units_};
  kernel_.shape = {in[0], units_};
  kernel_.value.assign(in[0] * units_, 0.0f);
  bias_.shape = {units_};
  bias_.value.assign(units_, 0.0f);
  return out_shape;
}

void Dense::init(Rng& rng) { initialise(init_, kernel_.value, in_shape[0], units_, rng); }

void Dense::forward(const float* x, float* y, std::size_t n, Scratch&, const Pass&) const {
  const std::size_t in = in_shape[0];
  for (std::size_t r = 0; r < n; ++r) std::copy(bias_.value.begin(), bias_.value.end(), y + r * units_);
  // Each output's chain starts from its bias and takes the inputs in order (numeric/gemm.h).
  num::gemm({num::Op::none, num::Op::none, n, units_, in, in, units_, units_, true}, x, kernel_.value.data(), y);
  activate(act_, y, n, units_);
}

void Dense::backward(const float* x, const float* y, const float* dy, float* dx, std::size_t n,
                     std::vector<std::vector<float>>& grads, Scratch& s) const {
  const std::size_t in = in_shape[0];
  s.f.resize(n * units_);
  float* dz = s.f.data();
  activate_backward(act_, y, dy, dz, n, units_);
  // dW += xᵀ dz, each weight's chain through the chunk's samples in order.
  num::gemm({num::Op::transpose, num::Op::none, in, units_, n, in, units_, units_, true}, x, dz, grads[0].data());
  float* db = grads[1].data();
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t j = 0; j < units_; ++j) db[j] += dz[r * units_ + j];
  if (dx)  // dx = dz Wᵀ
    num::gemm({num::Op::none, num::Op::transpose, n, in, units_, units_, units_, in, false}, dz, kernel_.value.data(), dx);
}

}  // namespace untangle::nn
