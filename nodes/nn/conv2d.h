// 2-D convolution over channels-last samples {H, W, C}, as Keras's Conv2D: kernel
// [kh, kw, C, filters], bias [filters], "same" or "valid" padding. This file says what is
// computed, in terms of one convolution over a padded input; kernels.h says how fast.
#pragma once
#include "nodes/nn/activation.h"
#include "nodes/nn/kernels.h"
#include "nodes/nn/init.h"
#include "nodes/nn/layer.h"

namespace untangle::nn {

class Conv2D : public Layer {
 public:
  Conv2D(std::size_t filters, std::size_t kh, std::size_t kw, std::size_t stride, bool same_padding, Act act, Init init)
      : filters_(filters), kh_(kh), kw_(kw), stride_(stride), same_(same_padding), act_(act), init_(init) {}
  const char* type() const override { return "Conv2D"; }
  Shape build(const Shape& in) override;
  void init(Rng& rng) override;
  std::vector<Param*> params() override { return {&kernel_, &bias_}; }
  void forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass& p) const override;
  void backward(const float* x, const float* y, const float* dy, float* dx, std::size_t n,
                std::vector<std::vector<float>>& grads, Scratch& s) const override;
  Act activation() const { return act_; }
  void set_activation(Act a) { act_ = a; }

 private:
  std::size_t patch() const { return kh_ * kw_ * in_shape[2]; }  // the taps under one output
  ConvGeom geometry(std::size_t n) const;  // the forward pass over the padded input
  void pad(const float* x, std::size_t n, float* padded) const;

  std::size_t filters_, kh_, kw_, stride_;
  bool same_;
  Act act_;
  Init init_;
  std::size_t pad_top_ = 0, pad_left_ = 0;
  Param kernel_{"kernel", {}, {}}, bias_{"bias", {}, {}};
};

}  // namespace untangle::nn
