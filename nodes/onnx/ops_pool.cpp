// MaxPool, AveragePool and GlobalAveragePool over any number of spatial axes. Averages are sums in
// double in the window's order (the last axis fastest), divided once and rounded to float32.
#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "nodes/onnx/kernel.h"
#include "nodes/onnx/window.h"

namespace untangle::onnx {

namespace {

enum class Pool { max, average };

std::vector<Elem> floats_in(const Call& c, const std::vector<Elem>& in) {
  expect(c, in, 0, {Elem::float32});
  expect_outputs(c, 1, "MaxPool's indices are not made");
  return {Elem::float32};
}

// The kernel offsets j in [0, k) whose place start + j·d lies in [lo, hi), as [first, last):
// counted, not searched, so that a window far wider than the input costs nothing.
std::pair<std::int64_t, std::int64_t> within(std::int64_t start, std::int64_t d, std::int64_t k, std::int64_t lo,
                                             std::int64_t hi) {
  const std::int64_t first = start >= lo ? 0 : (lo - start + d - 1) / d;
  const std::int64_t last = start >= hi ? 0 : std::min(k, (hi - 1 - start) / d + 1);
  return {first, std::max(first, last)};
}

Tensor pool(const Call& c, const Tensor& x, Pool kind) {
  if (x.shape.size() < 3) throw std::runtime_error("X " + shape_string(x.shape) + " has no spatial axis");
  const std::vector<std::int64_t> ks = attr_ints(c.node, "kernel_shape");
  std::vector<std::size_t> kernel;
  for (std::int64_t k : ks) {
    if (k < 1) throw std::runtime_error("kernel_shape holds " + std::to_string(k));
    kernel.push_back(static_cast<std::size_t>(k));
  }
  const std::vector<std::size_t> in(x.shape.begin() + 2, x.shape.end());
  const Window w = window_of(c.node, in, kernel, attr_int(c.node, "ceil_mode", 0) != 0);
  const bool include_pad = attr_int(c.node, "count_include_pad", 0) != 0;
  const std::size_t rank = w.rank(), planes = x.shape[0] * x.shape[1];
  std::vector<std::size_t> shape{x.shape[0], x.shape[1]};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  Tensor y = output(DType::f32, shape, c);
  const std::size_t in_size = element_count(in), out_size = element_count(w.out);
  std::vector<std::size_t> stride(rank, 1);
  for (std::size_t a = rank - 1; a-- > 0;) stride[a] = stride[a + 1] * in[a + 1];

  // Per output position: on each axis the input offsets its window covers, and how many of the
  // window's places lie within the padded input (what count_include_pad divides by).
  std::vector<std::size_t> o(rank, 0), k(rank);
  std::vector<std::vector<std::size_t>> taps(rank);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  for (std::size_t pos = 0; pos < out_size; ++pos) {
    std::size_t padded = 1;
    bool empty = false;
    for (std::size_t a = 0; a < rank; ++a) {
      const std::int64_t start = w.start(a, o[a]), d = static_cast<std::int64_t>(w.dilation[a]);
      const std::int64_t k = static_cast<std::int64_t>(w.kernel[a]), size = static_cast<std::int64_t>(in[a]);
      const auto [first, last] = within(start, d, k, 0, size);
      const auto [pad_first, pad_last] = within(start, d, k, -w.pad_begin[a], size + w.pad_end[a]);
      taps[a].clear();
      for (std::int64_t j = first; j < last; ++j) taps[a].push_back(static_cast<std::size_t>(start + j * d) * stride[a]);
      padded *= static_cast<std::size_t>(pad_last - pad_first);
      empty = empty || taps[a].empty();
    }
    if (empty) throw std::runtime_error("a window covers no input: the pads are as large as the kernel");
    for (std::size_t p = 0; p < planes; ++p) {
      const float* plane = px + p * in_size;
      double sum = 0;
      float max = -std::numeric_limits<float>::infinity();
      std::size_t count = 0;
      std::fill(k.begin(), k.end(), 0);
      for (bool more = true; more;) {
        std::size_t off = 0;
        for (std::size_t a = 0; a < rank; ++a) off += taps[a][k[a]];
        const float v = plane[off];
        if (kind == Pool::max) {
          if (v > max || v != v) max = v;  // NaN wins, as in NumPy's max
        } else {
          sum += v;
        }
        ++count;
        more = false;
        for (std::size_t a = rank; a-- > 0;) {
          if (++k[a] < taps[a].size()) {
            more = true;
            break;
          }
          k[a] = 0;
        }
      }
      py[p * out_size + pos] =
          kind == Pool::max ? max : static_cast<float>(sum / static_cast<double>(include_pad ? padded : count));
    }
    for (std::size_t a = rank; a-- > 0;) {
      if (++o[a] < w.out[a]) break;
      o[a] = 0;
    }
  }
  return y;
}

Tensor global_average(const Call& c, const Tensor& x) {
  if (x.shape.size() < 3) throw std::runtime_error("X " + shape_string(x.shape) + " has no spatial axis");
  std::vector<std::size_t> shape(x.shape.size(), 1);
  shape[0] = x.shape[0], shape[1] = x.shape[1];
  Tensor y = output(DType::f32, shape, c);
  const std::size_t planes = shape[0] * shape[1], size = product(x.shape, 2, x.shape.size());
  const float* px = x.data<float>();
  for (std::size_t p = 0; p < planes; ++p) {
    double sum = 0;
    for (std::size_t i = 0; i < size; ++i) sum += px[p * size + i];
    y.data<float>()[p] = static_cast<float>(sum / static_cast<double>(size));
  }
  return y;
}

}  // namespace

void add_pool_kernels(Kernels& k) {
  Kernel max;
  // storage_order orders only the indices output, which is not made.
  max.attributes = {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"};
  max.check = floats_in;
  max.run = [](const Call& c, const std::vector<const Tensor*>& in) {
    return std::vector<Tensor>{pool(c, *in[0], Pool::max)};
  };
  k["MaxPool"] = max;

  Kernel avg;
  avg.attributes = {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"};
  avg.check = floats_in;
  avg.run = [](const Call& c, const std::vector<const Tensor*>& in) {
    return std::vector<Tensor>{pool(c, *in[0], Pool::average)};
  };
  k["AveragePool"] = avg;

  Kernel global;
  global.check = floats_in;
  global.run = [](const Call& c, const std::vector<const Tensor*>& in) {
    return std::vector<Tensor>{global_average(c, *in[0])};
  };
  k["GlobalAveragePool"] = global;
}

}  // namespace untangle::onnx
