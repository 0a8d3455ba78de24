// The kernels of kernels.h, written once over a vector type V and compiled once per
// instruction set by kernels_<isa>.cpp. V gives the lane count W and load, store,
// broadcast, fma; for pooling index vectors and a keep-the-larger select; for the sigmoid
// arithmetic, min and max (returning the second operand when one is NaN, as x86 does), and
// pow2(n) = 2^n for whole n in [-126, 127].
//
// Everything here has internal linkage and calls no standard-library template: an inline
// function compiled with -mavx512f in one file could otherwise be the copy the linker keeps for
// every file, and fault on a CPU without AVX-512.
#pragma once
#include <cstddef>
#include <cstdint>

#include "nodes/nn/kernels.h"

namespace untangle::nn {
namespace {

// Loops over a register tile's rows and vectors must unroll completely to keep it in registers.
#define UNROLL _Pragma("GCC unroll 32")

inline std::size_t min_of(std::size_t a, std::size_t b) { return a < b ? a : b; }
inline std::size_t max_of(std::size_t a, std::size_t b) { return a > b ? a : b; }

// Implicit GEMM: output pixels are the rows, filters the columns, taps the sum. A register tile
// holds MR pixels × NV vectors of filters; taps stream through it in (i, j, c) order, so every
// output is the same fma chain whatever MR, NV and the vector width.
template <class V, int MR, int NV>
void conv_forward_t(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y, float* pack) {
  constexpr std::size_t NR = NV * V::W;
  const std::size_t K = g.taps(), F = g.F, blocks = (F + NR - 1) / NR;
  // Weights as panels of NR filters, a tap's NR contiguous, zero past F; the biases after them.
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t j = 0; j < NR; ++j) {
        const std::size_t f = b * NR + j;
        pack[(b * K + k) * NR + j] = f < F ? w[k * F + f] : 0.0f;
      }
  float* init = pack + blocks * K * NR;
  for (std::size_t f = 0; f < blocks * NR; ++f) init[f] = bias && f < F ? bias[f] : 0.0f;

  const std::size_t P = g.n * g.OH * g.OW, row = g.kw * g.C, line = g.W * g.C;
  std::size_t s = 0, oh = 0, ow = 0;  // the tile's first pixel, stepped along without divisions
  for (std::size_t p0 = 0; p0 < P; p0 += MR) {
    const std::size_t rows = min_of(MR, P - p0);
    const float* a[MR];
    std::size_t i0 = g.kh, i1 = 0;  // kernel rows that meet data for some pixel of the tile
    UNROLL for (int r = 0; r < MR; ++r) {
      const std::size_t top = oh * g.stride;
      a[r] = x + ((s * g.H + top) * g.W + ow * g.stride) * g.C;
      const std::size_t first = g.row0 > top ? g.row0 - top : 0, last = g.row1 > top ? min_of(g.kh, g.row1 - top) : 0;
      if (first < last) i0 = min_of(i0, first), i1 = max_of(i1, last);
      if (static_cast<std::size_t>(r) + 1 < rows && ++ow == g.OW) {  // a short tile repeats its last pixel
        ow = 0;
        if (++oh == g.OH) oh = 0, ++s;
      }
    }
    if (rows == MR && ++ow == g.OW) {  // on to the next tile's first pixel
      ow = 0;
      if (++oh == g.OH) oh = 0, ++s;
    }
    for (std::size_t b = 0; b < blocks; ++b) {
      typename V::F acc[MR][NV];
      UNROLL for (int v = 0; v < NV; ++v) {
        const typename V::F start = V::load(init + b * NR + v * V::W);
        UNROLL for (int r = 0; r < MR; ++r) acc[r][v] = start;
      }
      const float* wb = pack + b * K * NR;
      for (std::size_t i = i0; i < i1; ++i) {
        const float* wi = wb + i * row * NR;
        const std::size_t off = i * line;
        for (std::size_t t = 0; t < row; ++t) {
          typename V::F bv[NV];
          UNROLL for (int v = 0; v < NV; ++v) bv[v] = V::load(wi + t * NR + v * V::W);
          UNROLL for (int r = 0; r < MR; ++r) {
            const typename V::F av = V::bcast(a[r] + off + t);
            UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(av, bv[v], acc[r][v]);
          }
        }
      }
      // Rows by constant index only: a variable one would keep acc in memory, not registers.
      float* out = y + p0 * F + b * NR;
      const bool whole = (b + 1) * NR <= F;
      float tmp[NR];
      UNROLL for (int r = 0; r < MR; ++r) {
        if (static_cast<std::size_t>(r) >= rows) break;
        float* dst = whole ? out + r * F : tmp;
        UNROLL for (int v = 0; v < NV; ++v) V::store(dst + v * V::W, acc[r][v]);
        if (!whole)
          for (std::size_t j = 0; j < F - b * NR; ++j) out[r * F + j] = tmp[j];
      }
    }
  }
}

// One tile of the weight gradient: taps k0 .. k0 + rows (consecutive in x, at most MR) × the
// filters of block b, summed over output rows [oh0, oh1) of sample s under kernel row i.
template <class V, int MR, int NV>
void weights_tile(const ConvGeom& g, const float* x, const float* dz, std::size_t ldz, float* dw, std::size_t s,
                  std::size_t i, std::size_t t0, std::size_t rows, std::size_t b, std::size_t oh0, std::size_t oh1) {
  constexpr std::size_t NR = NV * V::W;
  const std::size_t F = g.F, cols = min_of(NR, F - b * NR), k0 = i * g.kw * g.C + t0, step = g.stride * g.C;
  std::size_t off[MR];  // a short tile repeats its last tap
  UNROLL for (int r = 0; r < MR; ++r) off[r] = min_of(static_cast<std::size_t>(r), rows - 1);
  typename V::F acc[MR][NV];
  float tmp[NR];
  UNROLL for (int r = 0; r < MR; ++r) {
    const float* src = dw + (k0 + off[r]) * F + b * NR;
    if (cols < NR) {
      for (std::size_t j = 0; j < NR; ++j) tmp[j] = j < cols ? src[j] : 0.0f;
      src = tmp;
    }
    UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = V::load(src + v * V::W);
  }
  for (std::size_t oh = oh0; oh < oh1; ++oh) {
    const float* xa = x + (s * g.H + oh * g.stride + i) * g.W * g.C + t0;
    const float* d = dz + (s * g.OH + oh) * g.OW * ldz + b * NR;
    for (std::size_t ow = 0; ow < g.OW; ++ow, xa += step, d += ldz) {
      typename V::F bv[NV];
      UNROLL for (int v = 0; v < NV; ++v) bv[v] = V::load(d + v * V::W);
      UNROLL for (int r = 0; r < MR; ++r) {
        const typename V::F av = V::bcast(xa + off[r]);
        UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(av, bv[v], acc[r][v]);
      }
    }
  }
  UNROLL for (int r = 0; r < MR; ++r) {  // rows by constant index only, as in conv_forward_t
    if (static_cast<std::size_t>(r) >= rows) break;
    float* dst = dw + (k0 + r) * F + b * NR;
    UNROLL for (int v = 0; v < NV; ++v) V::store(cols == NR ? dst + v * V::W : tmp + v * V::W, acc[r][v]);
    if (cols < NR)
      for (std::size_t j = 0; j < cols; ++j) dst[j] = tmp[j];
  }
}

// The weight gradient: taps are the rows, filters the columns, output pixels the sum. A band
// of a sample's output rows at a time, so that its dz columns and the input rows under it stay
// in L1 while every tap meets them; each chain still takes the pixels in order.
template <class V, int MR, int NV>
void conv_backward_weights_t(const ConvGeom& g, const float* x, const float* dz, std::size_t ldz, float* dw) {
  constexpr std::size_t NR = NV * V::W;
  const std::size_t blocks = (g.F + NR - 1) / NR, row = g.kw * g.C, band = max_of(1, 96 / g.OW);
  for (std::size_t s = 0; s < g.n; ++s)
    for (std::size_t b = 0; b < blocks; ++b)
      for (std::size_t h0 = 0; h0 < g.OH; h0 += band)
        for (std::size_t i = 0; i < g.kh; ++i) {
          // Output rows of the band whose kernel row i meets data: row0 <= oh·stride + i < row1.
          const std::size_t oh0 = max_of(h0, g.row0 > i ? (g.row0 - i + g.stride - 1) / g.stride : 0);
          const std::size_t oh1 = min_of(min_of(g.OH, h0 + band), g.row1 > i ? (g.row1 - i + g.stride - 1) / g.stride : 0);
          for (std::size_t t0 = 0; oh0 < oh1 && t0 < row; t0 += MR)
            weights_tile<V, MR, NV>(g, x, dz, ldz, dw, s, i, t0, min_of(MR, row - t0), b, oh0, oh1);
        }
}

// Max pooling, W channels at a time. A strict > keeps the first maximum, as the scalar tail does.
template <class V>
void maxpool_forward_t(const float* x, std::size_t n, std::size_t H, std::size_t W, std::size_t C, std::size_t pool,
                       std::size_t stride, std::size_t OH, std::size_t OW, float* y, std::uint32_t* idx) {
  const std::size_t in = H * W * C;
  for (std::size_t s = 0; s < n; ++s) {
    const float* xs = x + s * in;
    for (std::size_t oh = 0; oh < OH; ++oh)
      for (std::size_t ow = 0; ow < OW; ++ow) {
        const std::size_t o = ((s * OH + oh) * OW + ow) * C, first = (oh * stride * W + ow * stride) * C;
        std::size_t c = 0;
        for (; c + V::W <= C; c += V::W) {
          typename V::F best = V::load(xs + first + c);
          typename V::I at = V::index(static_cast<std::uint32_t>(first + c));
          for (std::size_t i = 0; i < pool; ++i)
            for (std::size_t j = i ? 0 : 1; j < pool; ++j) {
              const std::size_t p = first + (i * W + j) * C + c;
              V::keep_max(best, at, V::load(xs + p), V::index(static_cast<std::uint32_t>(p)));
            }
          V::store(y + o + c, best);
          V::store_index(idx + o + c, at);
        }
        for (; c < C; ++c) {
          float best = xs[first + c];
          std::size_t at = first + c;
          for (std::size_t i = 0; i < pool; ++i)
            for (std::size_t j = 0; j < pool; ++j) {
              const std::size_t p = first + (i * W + j) * C + c;
              const bool more = xs[p] > best;
              best = more ? xs[p] : best;
              at = more ? p : at;
            }
          y[o + c] = best;
          idx[o + c] = static_cast<std::uint32_t>(at);
        }
      }
  }
}

// e^t = 2^n · e^r with n = round(t·log2 e) and |r| <= ln2 / 2, e^r by Cephes's expf polynomial;
// t is clamped to ±87 first, where 2^n stays a normal float.
template <class V>
typename V::F sigmoid_v(typename V::F x) {
  using F = typename V::F;
  const F t = V::min(V::set1(87.0f), V::max(V::set1(-87.0f), V::mul(V::set1(-1.0f), x)));
  const F magic = V::set1(12582912.0f);  // 1.5·2^23: adding it rounds to a whole number
  const F n = V::sub(V::add(V::mul(t, V::set1(1.44269504088896341f)), magic), magic);
  F r = V::fma(n, V::set1(-0.693359375f), t);
  r = V::fma(n, V::set1(2.12194440e-4f), r);
  F p = V::set1(1.9875691500e-4f);
  p = V::fma(p, r, V::set1(1.3981999507e-3f));
  p = V::fma(p, r, V::set1(8.3334519073e-3f));
  p = V::fma(p, r, V::set1(4.1665795894e-2f));
  p = V::fma(p, r, V::set1(1.6666665459e-1f));
  p = V::fma(p, r, V::set1(5.0000001201e-1f));
  p = V::fma(p, V::mul(r, r), r);
  const F e = V::mul(V::add(p, V::set1(1.0f)), V::pow2(n));
  return V::div(V::set1(1.0f), V::add(V::set1(1.0f), e));
}

template <class V>
void sigmoid_t(float* v, std::size_t n) {
  std::size_t i = 0;
  for (; i + V::W <= n; i += V::W) V::store(v + i, sigmoid_v<V>(V::load(v + i)));
  if (i < n) {  // the tail through a whole vector, so its lanes do what all others do
    float tmp[V::W] = {};
    for (std::size_t j = i; j < n; ++j) tmp[j - i] = v[j];
    V::store(tmp, sigmoid_v<V>(V::load(tmp)));
    for (std::size_t j = i; j < n; ++j) v[j] = tmp[j - i];
  }
}

}  // namespace
}  // namespace untangle::nn

#undef UNROLL
