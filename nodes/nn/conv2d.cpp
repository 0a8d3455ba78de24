#include "nodes/nn/conv2d.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "nodes/nn/blas.h"

namespace untangle::nn {

namespace {

// The products run over a few samples' patches at a time, never a whole chunk's: a block
// stays in cache from im2col through gemm, and backward unfolds x again rather than keep the
// chunk's patches (31 MB for a 50-sample chunk of a 5x5, 64-filter conv on 14x14x32), which
// measured 10-15% faster on one core and more with both cores streaming memory.
constexpr std::size_t kBlockRows = 512;
std::size_t samples_per_block(std::size_t rows_per_sample) {
  return std::max<std::size_t>(1, kBlockRows / rows_per_sample);
}

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
          const std::size_t ih = oh * stride_ + i;  // row ih - pad_top_ of the input
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
  const std::size_t per = out_shape[0] * out_shape[1], rows = n * per, K = patch();
  const std::size_t step = samples_per_block(per);
  s.f.resize(std::min(step, n) * per * K);
  for (std::size_t r = 0; r < rows; ++r) std::copy(bias_.value.begin(), bias_.value.end(), y + r * filters_);
  for (std::size_t b = 0; b < n; b += step) {
    const std::size_t m = std::min(step, n - b);
    im2col(x + b * volume(in_shape), m, s.f.data());
    gemm(false, false, m * per, filters_, K, 1.0f, s.f.data(), kernel_.value.data(), 1.0f, y + b * per * filters_);
  }
  activate(act_, y, rows, filters_);
}

void Conv2D::backward(const float* x, const float* y, const float* dy, float* dx, std::size_t n,
                      std::vector<std::vector<float>>& grads, Scratch& s) const {
  const std::size_t per = out_shape[0] * out_shape[1], rows = n * per, K = patch(), in = volume(in_shape);
  const std::size_t step = samples_per_block(per), block = std::min(step, n) * per * K;
  s.f.resize(rows * filters_ + 2 * block);
  float* dz = s.f.data();
  float* cols = dz + rows * filters_;
  float* dcols = cols + block;
  activate_backward(act_, y, dy, dz, rows, filters_);
  float* db = grads[1].data();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < filters_; ++j) db[j] += dz[r * filters_ + j];
  for (std::size_t b = 0; b < n; b += step) {
    const std::size_t m = std::min(step, n - b);
    const float* dzb = dz + b * per * filters_;
    im2col(x + b * in, m, cols);  // again: cheaper than keeping the chunk's patches
    gemm(true, false, K, filters_, m * per, 1.0f, cols, dzb, 1.0f, grads[0].data());  // dW += colsᵀ dz
    if (!dx) continue;
    gemm(false, true, m * per, K, filters_, 1.0f, dzb, kernel_.value.data(), 0.0f, dcols);  // dcols = dz Wᵀ
    col2im(dcols, m, dx + b * in);
  }
}

}  // namespace untangle::nn
