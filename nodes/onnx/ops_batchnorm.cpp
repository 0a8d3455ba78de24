// BatchNormalization as inference computes it, from the running mean and variance:
// y = (x − mean) / √(var + ε) · scale + B per channel (axis 1), in double and rounded once to
// float32. Training mode, which would compute and return the batch's statistics, is refused.
#include <cmath>
#include <vector>

#include "nodes/onnx/kernel.h"

namespace untangle::onnx {

namespace {

std::vector<Elem> check(const Call& c, const std::vector<Elem>& in) {
  for (std::size_t i = 0; i < in.size(); ++i) expect(c, in, i, {Elem::float32});
  if (attr_int(c.node, "training_mode", 0) != 0) throw Unsupported("training_mode=1: only inference is run");
  if (c.opset < 9 && attr_int(c.node, "spatial", 1) == 0)
    throw Unsupported("spatial=0 (statistics per element, not per channel) is not run");
  expect_outputs(c, 1, "the batch's statistics are made in training mode only, which is not run");
  return {Elem::float32};
}

Tensor normalise(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  if (x.shape.size() < 2) throw std::runtime_error("X " + shape_string(x.shape) + " has no channel axis");
  const std::size_t channels = x.shape[1], outer = x.shape[0], inner = product(x.shape, 2, x.shape.size());
  const char* names[] = {"scale", "B", "mean", "var"};
  for (std::size_t i = 1; i < 5; ++i)
    if (in[i]->shape != std::vector<std::size_t>{channels})
      throw std::runtime_error(std::string(names[i - 1]) + " is " + shape_string(in[i]->shape) + ", not one value per channel (" +
                               std::to_string(channels) + ")");
  const double eps = attr_float(c.node, "epsilon", 1e-5f);
  const float *scale = in[1]->data<float>(), *bias = in[2]->data<float>(), *mean = in[3]->data<float>(),
              *var = in[4]->data<float>();
  Tensor y = output(DType::f32, x.shape, c);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t ch = 0; ch < channels; ++ch) {
      const double sd = std::sqrt(static_cast<double>(var[ch]) + eps);  // correctly rounded, as IEEE-754 requires
      const std::size_t base = (o * channels + ch) * inner;
      for (std::size_t i = 0; i < inner; ++i)
        py[base + i] = static_cast<float>((px[base + i] - static_cast<double>(mean[ch])) / sd * scale[ch] + bias[ch]);
    }
  return y;
}

}  // namespace

void add_batchnorm_kernels(Kernels& k) {
  Kernel bn;
  // momentum only updates the running statistics in training; before opset 7 is_test=0 asks for the
  // training outputs, which are refused; consumed_inputs is opset 1's.
  bn.attributes = {"epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"};
  bn.check = check;
  bn.run = [](const Call& c, const std::vector<const Tensor*>& in) { return std::vector<Tensor>{normalise(c, in)}; };
  k["BatchNormalization"] = bn;
}

}  // namespace untangle::onnx
