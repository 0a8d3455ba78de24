// Max pooling over channels-last samples {H, W, C} with valid padding (Keras's default).
#pragma once
#include "nodes/nn/layer.h"

namespace untangle::nn {

class MaxPool2D : public Layer {
 public:
  // stride 0 means stride = pool, as Keras's strides=None.
  MaxPool2D(std::size_t pool, std::size_t stride) : pool_(pool), stride_(stride ? stride : pool) {}
  const char* type() const override { return "MaxPooling2D"; }
  Shape build(const Shape& in) override;
  // Records in Scratch::idx where each output's maximum came from (the first one on ties,
  // windows read row by row); the kernel is kernels.h's.
  void forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass& p) const override;
  void backward(const float*, const float*, const float* dy, float* dx, std::size_t n,
                std::vector<std::vector<float>>&, Scratch& s) const override;

 private:
  std::size_t pool_, stride_;
};

}  // namespace untangle::nn
