// Fully connected layer: y = act(x · kernel + bias), kernel [in, out] as in Keras.
#pragma once
#include "nodes/nn/activation.h"
#include "nodes/nn/init.h"
#include "nodes/nn/layer.h"

namespace untangle::nn {

class Dense : public Layer {
 public:
  Dense(std::size_t units, Act act, Init init) : units_(units), act_(act), init_(init) {}
  const char* type() const override { return "Dense"; }
  Shape build(const Shape& in) override;
  void init(Rng& rng) override;
  std::vector<Param*> params() override { return {&kernel_, &bias_}; }
  void forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass& p) const override;
  void backward(const float* x, const float* y, const float* dy, float* dx, std::size_t n,
                std::vector<std::vector<float>>& grads, Scratch& s) const override;
  Act activation() const { return act_; }
  void set_activation(Act a) { act_ = a; }

 private:
  std::size_t units_;
  Act act_;
  Init init_;
  Param kernel_{"kernel", {}, {}}, bias_{"bias", {}, {}};
};

}  // namespace untangle::nn
