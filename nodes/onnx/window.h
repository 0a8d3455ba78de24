// The sliding window that Conv, MaxPool and AveragePool share, over any number of spatial axes:
// kernel_shape, strides, dilations, pads and auto_pad as ONNX defines them, and the output size
// they give, as ONNX's shape inference computes it (ceil_mode rounding up, with no window dropped).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nodes/onnx/model.h"

namespace untangle::onnx {

struct Window {
  std::vector<std::size_t> in, kernel, stride, dilation, out;
  std::vector<std::int64_t> pad_begin, pad_end;

  std::size_t rank() const { return in.size(); }
  // Where output position o of axis a starts in the input; negative inside the leading pad.
  std::int64_t start(std::size_t a, std::size_t o) const {
    return static_cast<std::int64_t>(o * stride[a]) - pad_begin[a];
  }
};

// `in`: the input's spatial sizes; `kernel`: the window's (kernel_shape, or the weights' for Conv).
// Throws when the attributes do not fit them or the window is larger than the padded input.
Window window_of(const Node& n, const std::vector<std::size_t>& in, const std::vector<std::size_t>& kernel,
                 bool ceil_mode = false);

}  // namespace untangle::onnx
