// Softmax and LogSoftmax. From opset 13 they normalise along one axis (default −1); before, the
// input is read as a matrix of the axes before `axis` (default 1) by those from it, and each row is
// normalised. In double, with the row's maximum taken out first and the exponentials summed in
// order, then rounded once to float32.
#include <vector>

#include "nodes/numeric/elementary.h"
#include "nodes/onnx/kernel.h"

namespace untangle::onnx {

namespace {

Kernel softmax(bool log) {
  Kernel k;
  k.attributes = {"axis"};
  k.check = [](const Call& c, const std::vector<Elem>& in) {
    expect(c, in, 0, {Elem::float32});
    return std::vector<Elem>{Elem::float32};
  };
  k.run = [log](const Call& c, const std::vector<const Tensor*>& in) {
    const Tensor& x = *in[0];
    const std::size_t rank = x.shape.size();
    const bool one_axis = c.opset >= 13;
    const std::size_t axis = axis_index(attr_int(c.node, "axis", one_axis ? -1 : 1), rank, "axis");
    // Rows of `n` values, `inner` apart: a row per (outer, inner) pair.
    const std::size_t outer = product(x.shape, 0, axis);
    const std::size_t n = one_axis ? x.shape[axis] : product(x.shape, axis, rank);
    const std::size_t inner = one_axis ? product(x.shape, axis + 1, rank) : 1;
    Tensor y = output(DType::f32, x.shape, c);
    const float* px = x.data<float>();
    float* py = y.data<float>();
    std::vector<double> e(n);
    for (std::size_t o = 0; o < outer; ++o)
      for (std::size_t i = 0; i < inner; ++i) {
        const float* row = px + o * n * inner + i;
        float* out = py + o * n * inner + i;
        if (n == 0) continue;
        double max = row[0];
        for (std::size_t j = 1; j < n; ++j) max = row[j * inner] > max ? row[j * inner] : max;
        double sum = 0;
        for (std::size_t j = 0; j < n; ++j) sum += e[j] = num::exp(row[j * inner] - max);
        const double log_sum = log ? num::log(sum) : 0;
        for (std::size_t j = 0; j < n; ++j)
          out[j * inner] = static_cast<float>(log ? (row[j * inner] - max) - log_sum : e[j] / sum);
      }
    return std::vector<Tensor>{std::move(y)};
  };
  return k;
}

}  // namespace

void add_softmax_kernels(Kernels& k) {
  k["Softmax"] = softmax(false);
  k["LogSoftmax"] = softmax(true);
}

}  // namespace untangle::onnx
