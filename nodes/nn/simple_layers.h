// Layers without weights: flatten, a stand-alone activation, dropout.
#pragma once
#include "nodes/nn/activation.h"
#include "nodes/nn/layer.h"

namespace untangle::nn {

class Flatten : public Layer {
 public:
  const char* type() const override { return "Flatten"; }
  Shape build(const Shape& in) override;
  void forward(const float* x, float* y, std::size_t n, Scratch&, const Pass&) const override;
  void backward(const float*, const float*, const float* dy, float* dx, std::size_t n,
                std::vector<std::vector<float>>&, Scratch&) const override;
};

class Activation : public Layer {
 public:
  explicit Activation(Act a) : act_(a) {}
  const char* type() const override { return "Activation"; }
  Shape build(const Shape& in) override;
  void forward(const float* x, float* y, std::size_t n, Scratch&, const Pass&) const override;
  void backward(const float*, const float* y, const float* dy, float* dx, std::size_t n,
                std::vector<std::vector<float>>&, Scratch&) const override;
  Act activation() const { return act_; }
  void set_activation(Act a) { act_ = a; }

 private:
  Act act_;
};

// Inverted dropout, as Keras: in training each value is kept with probability 1 - rate and
// scaled by 1 / (1 - rate); at inference it passes through unchanged.
class Dropout : public Layer {
 public:
  explicit Dropout(double rate) : rate_(rate) {}
  const char* type() const override { return "Dropout"; }
  Shape build(const Shape& in) override;
  void forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass& p) const override;
  void backward(const float*, const float*, const float* dy, float* dx, std::size_t n,
                std::vector<std::vector<float>>&, Scratch& s) const override;

 private:
  double rate_;
};

}  // namespace untangle::nn
