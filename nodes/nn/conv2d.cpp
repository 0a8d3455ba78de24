#include "nodes/nn/conv2d.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

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

// Zero padding made explicit: the input in a frame of ((OH-1)·stride + kh) × ((OW-1)·stride + kw),
// its own rows and columns from (pad_top_, pad_left_); "valid" may leave the last ones out.
ConvGeom Conv2D::geometry(std::size_t n) const {
  const std::size_t H = in_shape[0], OH = out_shape[0], OW = out_shape[1];
  const std::size_t rows = (OH - 1) * stride_ + kh_, cols = (OW - 1) * stride_ + kw_;
  return {n, rows, cols, in_shape[2], pad_top_, std::min(rows, pad_top_ + H), kh_, kw_, stride_, OH, OW, filters_};
}

namespace {

// Copies n images of h×w pixels (each row `stride` pixels long in src) into frames of rows×cols
// pixels at (top, left), and zeroes the frames around them, not the whole buffer.
void frame(const float* src, std::size_t n, std::size_t h, std::size_t w, std::size_t stride, std::size_t C,
           float* dst, std::size_t rows, std::size_t cols, std::size_t top, std::size_t left) {
  for (std::size_t s = 0; s < n; ++s) {
    float* d = dst + s * rows * cols * C;
    std::fill(d, d + top * cols * C, 0.0f);
    for (std::size_t r = 0; r < h; ++r) {
      float* line = d + (top + r) * cols * C;
      std::fill(line, line + left * C, 0.0f);
      std::copy(src + (s * h + r) * stride * C, src + ((s * h + r) * stride + w) * C, line + left * C);
      std::fill(line + (left + w) * C, line + cols * C, 0.0f);
    }
    std::fill(d + (top + h) * cols * C, d + rows * cols * C, 0.0f);
  }
}

}  // namespace

void Conv2D::pad(const float* x, std::size_t n, float* padded) const {
  const ConvGeom g = geometry(n);
  const std::size_t H = in_shape[0], W = in_shape[1];
  const std::size_t h1 = std::min(H, g.H - pad_top_), w1 = std::min(W, g.W - pad_left_);
  if (h1 == H)
    frame(x, n, H, w1, W, g.C, padded, g.H, g.W, pad_top_, pad_left_);
  else  // "valid" leaves the last rows out: sample by sample
    for (std::size_t s = 0; s < n; ++s)
      frame(x + s * H * W * g.C, 1, h1, w1, W, g.C, padded + s * g.H * g.W * g.C, g.H, g.W, pad_top_, pad_left_);
}

namespace {

// Per-thread working space, reused from chunk to chunk: a layer is shared by the threads.
std::vector<float>& buffer(int which) {
  static thread_local std::vector<float> buffers[5];
  return buffers[which];
}

}  // namespace

// The padded input stays in the scratch space: the weight gradient reads it again.
void Conv2D::forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass&) const {
  const Kernels& k = kernels();
  const ConvGeom g = geometry(n);
  s.f.resize(n * g.H * g.W * g.C);
  pad(x, n, s.f.data());
  auto& pack = buffer(0);
  pack.resize((g.taps() + 1) * round_up(filters_, k.nr));
  k.conv_forward(g, s.f.data(), kernel_.value.data(), bias_.value.data(), y, pack.data());
  activate(act_, y, n * out_shape[0] * out_shape[1], filters_);
}

// The input itself is not read: forward left its padded copy in the scratch space.
void Conv2D::backward(const float*, const float* y, const float* dy, float* dx, std::size_t n,
                      std::vector<std::vector<float>>& grads, Scratch& s) const {
  const Kernels& k = kernels();
  const ConvGeom g = geometry(n);
  const std::size_t H = in_shape[0], W = in_shape[1], C = in_shape[2], OH = out_shape[0], OW = out_shape[1];
  const std::size_t rows = n * OH * OW, F = filters_, ldz = round_up(F, k.nr);
  auto& dz = buffer(1);
  dz.resize(rows * ldz);
  activate_backward(act_, y, dy, dz.data(), rows, F);
  float* db = grads[1].data();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < F; ++j) db[j] += dz[r * F + j];
  if (ldz != F)  // spread the rows out to whole vector blocks, last row first
    for (std::size_t r = rows; r-- > 0;) std::copy_backward(dz.begin() + r * F, dz.begin() + (r + 1) * F, dz.begin() + r * ldz + F);
  k.conv_backward_weights(g, s.f.data(), dz.data(), ldz, grads[0].data());
  if (!dx) return;

  // dx[h,w,c] = Σ dz[oh,ow,f]·kernel[i,j,c,f] over oh·stride + i = h + pad_top (and so for w):
  // a stride-1 convolution of dz with its pixels spread `stride` apart, kh-1-pad_top rows above
  // them and kw-1-pad_left columns to the left in an (H+kh-1) × (W+kw-1) frame, by the kernel
  // turned half round with its channel axes swapped.
  const std::size_t top = kh_ - 1 - pad_top_, left = kw_ - 1 - pad_left_;
  const ConvGeom b{n, H + kh_ - 1, W + kw_ - 1, F, top, top + (OH - 1) * stride_ + 1, kh_, kw_, 1, H, W, C};
  auto& spread = buffer(2);
  spread.resize(n * b.H * b.W * F);
  if (stride_ == 1 && ldz == F) {
    frame(dz.data(), n, OH, OW, OW, F, spread.data(), b.H, b.W, top, left);
  } else {
    std::fill(spread.begin(), spread.end(), 0.0f);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t s_ = r / (OH * OW), oh = r / OW % OH, ow = r % OW;
      std::copy(dz.begin() + r * ldz, dz.begin() + r * ldz + F,
                spread.begin() + ((s_ * b.H + top + oh * stride_) * b.W + left + ow * stride_) * F);
    }
  }
  auto& turned = buffer(3);
  turned.resize(kh_ * kw_ * F * C);
  const float* w = kernel_.value.data();
  for (std::size_t i = 0; i < kh_; ++i)
    for (std::size_t j = 0; j < kw_; ++j)
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t f = 0; f < F; ++f)
          turned[((i * kw_ + j) * F + f) * C + c] = w[(((kh_ - 1 - i) * kw_ + kw_ - 1 - j) * C + c) * F + f];
  auto& pack = buffer(4);
  pack.resize((b.taps() + 1) * round_up(C, k.nr));
  k.conv_forward(b, spread.data(), turned.data(), nullptr, dx, pack.data());
}

}  // namespace untangle::nn
