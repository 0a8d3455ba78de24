// Conv over any number of spatial axes, with groups, strides, dilations, pads and auto_pad: for
// each image and group the input's windows laid out as columns (im2col), then one num::gemm of the
// group's filters by them. Each output element is one fma chain from its bias over the channels
// and kernel offsets in order, so images may run on any threads.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <vector>

#include "nodes/numeric/gemm.h"
#include "nodes/onnx/kernel.h"
#include "nodes/onnx/window.h"

namespace untangle::onnx {

namespace {

// Writes, output position by output position (the last axis fastest), the input value the window
// takes at kernel offset `kk`, or 0 in the padding.
void fill(const float* x, const Window& w, const std::vector<std::size_t>& kk, const std::vector<std::size_t>& stride,
          std::size_t axis, std::int64_t base, bool inside, float*& dst) {
  const bool last = axis + 1 == w.rank();
  for (std::size_t o = 0; o < w.out[axis]; ++o) {
    const std::int64_t i = w.start(axis, o) + static_cast<std::int64_t>(kk[axis] * w.dilation[axis]);
    const bool ok = inside && i >= 0 && i < static_cast<std::int64_t>(w.in[axis]);
    if (last)
      *dst++ = ok ? x[base + i] : 0.0f;
    else
      fill(x, w, kk, stride, axis + 1, base + i * static_cast<std::int64_t>(stride[axis]), ok, dst);
  }
}

// Columns of `channels` channels: row (c, kernel offset), one column per output position.
void im2col(const float* x, std::size_t channels, const Window& w, float* col) {
  const std::size_t rank = w.rank(), in_size = element_count(w.in), offsets = element_count(w.kernel);
  std::vector<std::size_t> stride(rank, 1), kk(rank);
  for (std::size_t a = rank - 1; a-- > 0;) stride[a] = stride[a + 1] * w.in[a + 1];
  for (std::size_t c = 0; c < channels; ++c)
    for (std::size_t k = 0; k < offsets; ++k) {
      for (std::size_t a = rank, rest = k; a-- > 0; rest /= w.kernel[a]) kk[a] = rest % w.kernel[a];
      fill(x + c * in_size, w, kk, stride, 0, 0, true, col);
    }
}

Tensor conv(const Call& c, const Tensor& x, const Tensor& weights, const Tensor* bias) {
  const std::size_t rank = x.shape.size();
  if (rank < 3) throw std::runtime_error("X " + shape_string(x.shape) + " has no spatial axis");
  if (weights.shape.size() != rank)
    throw std::runtime_error("W " + shape_string(weights.shape) + " and X " + shape_string(x.shape) + " differ in rank");
  const std::int64_t groups = attr_int(c.node, "group", 1);
  const std::size_t n = x.shape[0], channels = x.shape[1], filters = weights.shape[0], per_group = weights.shape[1];
  if (groups < 1 || per_group * static_cast<std::size_t>(groups) != channels || filters % groups != 0)
    throw std::runtime_error("W " + shape_string(weights.shape) + " in " + std::to_string(groups) +
                             " groups does not fit X " + shape_string(x.shape));
  const std::size_t g_count = static_cast<std::size_t>(groups), g_filters = filters / g_count;
  const std::vector<std::size_t> in(x.shape.begin() + 2, x.shape.end()), kernel(weights.shape.begin() + 2, weights.shape.end());
  if (has_attr(c.node, "kernel_shape") &&
      attr_ints(c.node, "kernel_shape") != std::vector<std::int64_t>(kernel.begin(), kernel.end()))
    throw std::runtime_error("kernel_shape differs from W's spatial shape " + shape_string(kernel));
  if (bias && bias->shape != std::vector<std::size_t>{filters})
    throw std::runtime_error("B " + shape_string(bias->shape) + " is not one value per filter (" + std::to_string(filters) + ")");
  const Window w = window_of(c.node, in, kernel);
  std::vector<std::size_t> shape{n, filters};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  Tensor y = output(DType::f32, shape, c);
  const std::size_t positions = element_count(w.out), k = per_group * element_count(kernel);
  const std::size_t in_size = element_count(in);
  check_memory(byte_count({k, positions}, DType::f32), "Conv's columns");
  num::GemmShape s;
  s.m = g_filters, s.n = positions, s.k = k, s.lda = k, s.ldb = positions, s.ldc = positions;
  s.accumulate = bias != nullptr;
  const float* px = x.data<float>();
  const float* pw = weights.data<float>();
  float* py = y.data<float>();
  const auto image = [&](std::size_t i, bool parallel) {
    std::vector<float> col(k * positions);
    for (std::size_t g = 0; g < g_count; ++g) {
      im2col(px + (i * channels + g * per_group) * in_size, per_group, w, col.data());
      float* out = py + (i * filters + g * g_filters) * positions;
      if (bias)
        for (std::size_t f = 0; f < g_filters; ++f)
          std::fill(out + f * positions, out + (f + 1) * positions, bias->data<float>()[g * g_filters + f]);
      const float* filters_g = pw + g * g_filters * k;
      parallel ? num::parallel_gemm(s, filters_g, col.data(), out) : num::gemm(s, filters_g, col.data(), out);
    }
  };
  if (n == 1)
    image(0, true);
  else
    tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) { image(i, false); });
  return y;
}

}  // namespace

void add_conv_kernels(Kernels& k) {
  Kernel conv_k;
  conv_k.attributes = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"};
  conv_k.check = [](const Call& c, const std::vector<Elem>& in) {
    for (std::size_t i = 0; i < in.size(); ++i) expect(c, in, i, {Elem::float32});
    return std::vector<Elem>{Elem::float32};
  };
  conv_k.run = [](const Call& c, const std::vector<const Tensor*>& in) {
    return std::vector<Tensor>{conv(c, *in[0], *in[1], in.size() > 2 ? in[2] : nullptr)};
  };
  k["Conv"] = conv_k;
}

}  // namespace untangle::onnx
