// Gemm and MatMul on num::parallel_gemm, whose every output element is one fma chain over k in
// order, whatever the CPU and the thread count.
#include <vector>

#include "nodes/numeric/gemm.h"
#include "nodes/onnx/kernel.h"

namespace untangle::onnx {

namespace {

const std::vector<Elem> kFloats = {Elem::float32, Elem::float64};

std::vector<Elem> same_float_types(const Call& c, const std::vector<Elem>& in) {
  expect(c, in, 0, kFloats);
  for (std::size_t i = 1; i < in.size(); ++i) expect(c, in, i, {in[0]});
  return {in[0]};
}

void require_rank(const Tensor& t, std::size_t rank, const char* name) {
  if (t.shape.size() != rank)
    throw std::runtime_error(std::string(name) + " is " + shape_string(t.shape) + ", not of rank " + std::to_string(rank));
}

// Y = alpha·op(A)·op(B) + beta·C, C broadcast to Y's shape; each term rounded as NumPy rounds it.
template <class T>
Tensor gemm(const Call& c, const Tensor& a, const Tensor& b, const Tensor* bias) {
  require_rank(a, 2, "A");
  require_rank(b, 2, "B");
  const bool ta = attr_int(c.node, "transA", 0) != 0, tb = attr_int(c.node, "transB", 0) != 0;
  const std::size_t m = a.shape[ta ? 1 : 0], k = a.shape[ta ? 0 : 1];
  const std::size_t kb = b.shape[tb ? 1 : 0], n = b.shape[tb ? 0 : 1];
  if (k != kb)
    throw std::runtime_error("A " + shape_string(a.shape) + " and B " + shape_string(b.shape) +
                             " do not multiply (transA " + std::to_string(ta) + ", transB " + std::to_string(tb) + ")");
  Tensor y = output(a.dtype, {m, n}, c);
  num::GemmShape s;
  s.ta = ta ? num::Op::transpose : num::Op::none;
  s.tb = tb ? num::Op::transpose : num::Op::none;
  s.m = m, s.n = n, s.k = k;
  s.lda = a.shape[1], s.ldb = b.shape[1], s.ldc = n;
  T* py = y.data<T>();
  num::parallel_gemm(s, a.data<T>(), b.data<T>(), py);
  const T alpha = static_cast<T>(attr_float(c.node, "alpha", 1)), beta = static_cast<T>(attr_float(c.node, "beta", 1));
  if (alpha != 1)
    for (std::size_t i = 0; i < m * n; ++i) py[i] = alpha * py[i];
  if (bias && c.opset < 7 && !attr_int(c.node, "broadcast", 0) && bias->shape != y.shape)
    throw std::runtime_error("C " + shape_string(bias->shape) + " is not Y's shape " + shape_string(y.shape) +
                             ", and broadcast is 0");
  if (bias && beta != 0) {
    if (broadcast_shape(bias->shape, y.shape) != y.shape)
      throw std::runtime_error("C " + shape_string(bias->shape) + " does not broadcast to " + shape_string(y.shape));
    const std::vector<std::size_t> st = broadcast_strides(bias->shape, y.shape);
    const std::size_t si = st.size() == 2 ? st[0] : 0, sj = st.empty() ? 0 : st.back();
    const T* pc = bias->data<T>();
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) py[i * n + j] = py[i * n + j] + beta * pc[i * si + j * sj];
  }
  return y;
}

// NumPy's matmul: a 1-D A is a row, a 1-D B a column (their axis dropped from the result), and the
// axes before the last two broadcast.
template <class T>
Tensor matmul(const Call& c, const Tensor& a, const Tensor& b) {
  if (a.shape.empty() || b.shape.empty()) throw std::runtime_error("MatMul takes no scalars");
  std::vector<std::size_t> as = a.shape, bs = b.shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const std::size_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  if (bs[bs.size() - 2] != k)
    throw std::runtime_error("A " + shape_string(a.shape) + " and B " + shape_string(b.shape) + " do not multiply");
  const std::vector<std::size_t> a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  const std::vector<std::size_t> batch = broadcast_shape(a_batch, b_batch);
  std::vector<std::size_t> shape = batch;
  if (a.shape.size() > 1) shape.push_back(m);
  if (b.shape.size() > 1) shape.push_back(n);
  Tensor y = output(a.dtype, shape, c);
  const std::vector<std::size_t> sa = broadcast_strides(a_batch, batch), sb = broadcast_strides(b_batch, batch);
  const std::size_t count = element_count(batch);
  num::GemmShape s;
  s.m = m, s.n = n, s.k = k, s.lda = k, s.ldb = n, s.ldc = n;
  std::vector<std::size_t> index(batch.size(), 0);
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t oa = 0, ob = 0;
    for (std::size_t d = 0; d < batch.size(); ++d) oa += index[d] * sa[d], ob += index[d] * sb[d];
    num::parallel_gemm(s, a.data<T>() + oa * m * k, b.data<T>() + ob * k * n, y.data<T>() + i * m * n);
    for (std::size_t d = batch.size(); d-- > 0;) {
      if (++index[d] < batch[d]) break;
      index[d] = 0;
    }
  }
  return y;
}

}  // namespace

void add_linear_kernels(Kernels& k) {
  Kernel g;
  g.attributes = {"alpha", "beta", "transA", "transB", "broadcast"};  // broadcast: opsets before 7
  g.check = same_float_types;
  g.run = [](const Call& c, const std::vector<const Tensor*>& in) {
    const Tensor* bias = in.size() > 2 ? in[2] : nullptr;
    return std::vector<Tensor>{in[0]->dtype == DType::f64 ? gemm<double>(c, *in[0], *in[1], bias)
                                                          : gemm<float>(c, *in[0], *in[1], bias)};
  };
  k["Gemm"] = g;

  Kernel mm;
  mm.check = same_float_types;
  mm.run = [](const Call& c, const std::vector<const Tensor*>& in) {
    return std::vector<Tensor>{in[0]->dtype == DType::f64 ? matmul<double>(c, *in[0], *in[1])
                                                          : matmul<float>(c, *in[0], *in[1])};
  };
  k["MatMul"] = mm;
}

}  // namespace untangle::onnx
