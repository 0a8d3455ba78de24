#include "nodes/onnx/window.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "nodes/onnx/kernel.h"

namespace untangle::onnx {

namespace {

// No model pads, strides or dilates by 2³¹ or more; refusing it keeps every position's
// arithmetic far inside 64 bits, whatever the file says.
constexpr std::int64_t kLimit = std::int64_t(1) << 31;

std::vector<std::size_t> positive(const Node& n, const char* name, std::size_t rank) {
  const std::vector<std::int64_t> v = attr_ints(n, name, std::vector<std::int64_t>(rank, 1));
  if (v.size() != rank)
    throw std::runtime_error(std::string(name) + " has " + std::to_string(v.size()) + " values for " +
                             std::to_string(rank) + " spatial axes");
  std::vector<std::size_t> out;
  for (std::int64_t x : v) {
    if (x < 1 || x >= kLimit)
      throw std::runtime_error(std::string(name) + " holds " + std::to_string(x) + "; each must be at least 1 and below 2^31");
    out.push_back(static_cast<std::size_t>(x));
  }
  return out;
}

}  // namespace

Window window_of(const Node& n, const std::vector<std::size_t>& in, const std::vector<std::size_t>& kernel,
                 bool ceil_mode) {
  const std::size_t rank = in.size();
  Window w;
  w.in = in;
  w.kernel = kernel;
  if (kernel.size() != rank)
    throw std::runtime_error("the kernel has " + std::to_string(kernel.size()) + " axes for an input with " +
                             std::to_string(rank) + " spatial axes");
  for (std::size_t k : kernel)
    if (k == 0 || k >= static_cast<std::size_t>(kLimit)) throw std::runtime_error("the kernel has an axis of size " + std::to_string(k));
  w.stride = positive(n, "strides", rank);
  w.dilation = positive(n, "dilations", rank);
  const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
  const std::vector<std::int64_t> pads = attr_ints(n, "pads", std::vector<std::int64_t>(2 * rank, 0));
  if (pads.size() != 2 * rank)
    throw std::runtime_error("pads has " + std::to_string(pads.size()) + " values for " + std::to_string(rank) +
                             " spatial axes (begins, then ends)");
  for (std::size_t a = 0; a < rank; ++a) {
    const std::int64_t size = static_cast<std::int64_t>(in[a]), s = static_cast<std::int64_t>(w.stride[a]);
    const std::int64_t extent = static_cast<std::int64_t>((kernel[a] - 1) * w.dilation[a] + 1);
    std::int64_t begin = 0, end = 0, out = 0;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out = (size + s - 1) / s;
      const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * s + extent - size);
      begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    } else {
      if (auto_pad == "NOTSET") begin = pads[a], end = pads[rank + a];
      else if (auto_pad != "VALID") throw std::runtime_error("auto_pad '" + auto_pad + "' is none of ONNX's");
      if (begin < 0 || end < 0 || begin >= kLimit || end >= kLimit)
        throw std::runtime_error("pads holds " + std::to_string(begin < 0 || begin >= kLimit ? begin : end) +
                                 "; each must be at least 0 and below 2^31");
      const std::int64_t span = size + begin + end - extent;
      if (span < 0)
        throw std::runtime_error("the window (" + std::to_string(extent) + " wide on axis " + std::to_string(a) +
                                 ") is larger than the padded input (" + std::to_string(size + begin + end) + ")");
      out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    }
    w.pad_begin.push_back(begin);
    w.pad_end.push_back(end);
    w.out.push_back(static_cast<std::size_t>(out));
  }
  return w;
}

}  // namespace untangle::onnx
