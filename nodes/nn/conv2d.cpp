#include "nodes/nn/conv2d.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "nodes/nn/blas.h"

namespace untangle::nn {

namespace {

// Output length and leading pad along one axis. "same" pads as TensorFlow does: the odd
// element of the padding goes after (bottom/right), so weights trained in Keras line up.
std::size_t out_len(std::size_t in, std::size_t k, std::size_t stride, bool same, std::size_t& pad) {
  if (same) {
    const std::size_t out = (in + stride - 1) / stride;
    const std::size_t need = (out - 1) * stride + k;
    pad = need > in ? (need - in) / 2 : 0;
    return out;
  }
  if (in < k)
    throw std::invalid_argument("Conv2D kernel (" + std::to_string(k) + ") is larger than its input (" +
                                std::to_string(in) + ") with valid padding; use padding: same or a smaller kernel");
  pad = 0;
  return (in - k) / stride + 1;
}

}  // namespace

Shape Conv2D::build(const Shape& in) {
  if (in.size() != 3)
    throw std::invalid_argument("Conv2D takes inputs of shape {height, width, channels} (input shape has " +
                                std::to_string(in.size()) + " axes)");
  if (!filters_ || !kh_ || !kw_ || !stride_)
    throw std::invalid_argument("Conv2D filters, kernel and stride must be at least 1");
  if (!in[0] || !in[1] || !in[2]) throw std::invalid_argument("Conv2D input has an empty axis");
  in_shape = in;
  const std::size_t oh = out_len(in[0], kh_, stride_, same_, pad_top_);
  const std::size_t ow = out_len(in[1], kw_, stride_, same_, pad_left_);
  out_shape = {oh, ow, filters_};
  kernel_.shape = {kh_, kw_, in[2], filters_};
  kernel_.value.assign(patch() * filters_, 0.0f);
  bias_.shape = {filters_};
  bias_.value.assign(filters_, 0.0f);
  return out_shape;
}

// Keras's receptive-field fans: each output sees kh·kw·C inputs, each input feeds kh·kw·filters.
void Conv2D::init(Rng& rng) { initialise(init_, kernel_.value, patch(), kh_ * kw_ * filters_, rng); }

// Row (s, oh, ow) of cols is the patch under output (oh, ow) of sample s, in kernel order
// (i, j, c). Channels last makes each kernel row kw·C contiguous floats of the input.
void Conv2D::im2col(const float* x, std::size_t n, float* cols) const {
  const std::size_t H = in_shape[0], W = in_shape[1], C = in_shape[2], OH = out_shape[0], OW = out_shape[1];
  const std::size_t K = patch(), row = kw_ * C;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t oh = 0; oh < OH; ++oh)
      for (std::size_t ow = 0; ow < OW; ++ow) {
        float* dst = cols + ((s * OH + oh) * OW + ow) * K;
        // Kernel columns [j0, j1) fall inside the input; the rest is padding.
        const std::size_t left = ow * stride_, j0 = std::min(kw_, pad_left_ > left ? pad_left_ - left : 0);
        const std::size_t j1 = std::max(j0, std::min(kw_, W + pad_left_ - left));
        for (std::size_t i = 0; i < kh_; ++i, dst += row) {
          const std::size_t ih = oh * stride_ + i;  // shifted by pad_top_
          if (ih < pad_top_ || ih - pad_top_ >= H) {
            std::fill(dst, dst + row, 0.0f);
            continue;
          }
          std::fill(dst, dst + j0 * C, 0.0f);
          if (j1 > j0)
            std::memcpy(dst + j0 * C, x + ((s * H + ih - pad_top_) * W + left + j0 - pad_left_) * C,
                        (j1 - j0) * C * sizeof(float));
          std::fill(dst + j1 * C, dst + row, 0.0f);
        }
      }
}

// The adjoint of im2col: every patch entry adds back into the input position it came from.
void Conv2D::col2im(const float* cols, std::size_t n, float* dx) const {
  const std::size_t H = in_shape[0], W = in_shape[1], C = in_shape[2], OH = out_shape[0], OW = out_shape[1];
  const std::size_t K = patch(), row = kw_ * C;
  std::fill(dx, dx + n * H * W * C, 0.0f);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t oh = 0; oh < OH; ++oh)
      for (std::size_t ow = 0; ow < OW; ++ow) {
        const float* src = cols + ((s * OH + oh) * OW + ow) * K;
        const std::size_t left = ow * stride_, j0 = std::min(kw_, pad_left_ > left ? pad_left_ - left : 0);
        const std::size_t j1 = std::max(j0, std::min(kw_, W + pad_left_ - left));
        for (std::size_t i = 0; i < kh_; ++i, src += row) {
          const std::size_t ih = oh * stride_ + i;
          if (ih < pad_top_ || ih - pad_top_ >= H) continue;
          float* d = dx + ((s * H + ih - pad_top_) * W + left + j0 - pad_left_) * C;
          for (std::size_t k = j0 * C; k < j1 * C; ++k) *d++ += src[k];
        }
      }
}

void Conv2D::forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass&) const {
  const std::size_t rows = n * out_shape[0] * out_shape[1], K = patch();
  s.f.resize(rows * K);  // kept: backward needs the patches for the kernel gradient
  im2col(x, n, s.f.data());
  for (std::size_t r = 0; r < rows; ++r) std::copy(bias_.value.begin(), bias_.value.end(), y + r * filters_);
  gemm(false, false, rows, filters_, K, 1.0f, s.f.data(), kernel_.value.data(), 1.0f, y);  // NHWC out
  activate(act_, y, rows, filters_);
}

void Conv2D::backward(const float*, const float* y, const float* dy, float* dx, std::size_t n,
                      std::vector<std::vector<float>>& grads, Scratch& s) const {
  const std::size_t per = out_shape[0] * out_shape[1], rows = n * per, K = patch();
  // Behind the patches: dz, then one sample's patch gradients. A sample at a time keeps dcols
  // in cache for col2im instead of a second chunk-sized matrix.
  s.f.resize(rows * K + rows * filters_ + (dx ? per * K : 0));
  const float* cols = s.f.data();
  float* dz = s.f.data() + rows * K;
  activate_backward(act_, y, dy, dz, rows, filters_);
  gemm(true, false, K, filters_, rows, 1.0f, cols, dz, 1.0f, grads[0].data());  // dW += colsᵀ dz
  float* db = grads[1].data();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < filters_; ++j) db[j] += dz[r * filters_ + j];
  if (!dx) return;
  float* dcols = dz + rows * filters_;
  const std::size_t in = volume(in_shape);
  for (std::size_t i = 0; i < n; ++i) {
    gemm(false, true, per, K, filters_, 1.0f, dz + i * per * filters_, kernel_.value.data(), 0.0f, dcols);
    col2im(dcols, 1, dx + i * in);
  }
}

}  // namespace untangle::nn
