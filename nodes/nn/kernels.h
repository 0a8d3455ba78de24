// The hot loops of the layers (convolution, pooling, sigmoid), one set per instruction set,
// chosen at run time. The layers say what they compute; these say how fast.
//
// Every convolution output is one chain of fused multiply-adds in a fixed order: it starts
// from its initial value (bias, zero, or the gradient so far) and adds tap after tap (forward:
// kernel row, column, channel; weight gradient: sample, output row, column), each product
// rounded once with the sum. Vectors only ever hold different outputs side by side, never
// parts of one sum, so the AVX-512, AVX2 and scalar kernels give the same bits however they
// block the work. Taps that fall on zero padding add an exact zero and may be skipped (the
// sums start from +0 or a bias, so skipping never even turns a -0 into +0 in training). The
// sigmoid does the same operations in every lane and on every instruction set, so it too gives
// the same bits everywhere.
#pragma once
#include <cstddef>
#include <cstdint>

#include "nodes/numeric/isa.h"

namespace untangle::nn {

using num::Isa;
using num::isa_name;
using num::cpu_isa;

// One convolution over a chunk of samples whose input is already padded: valid windows of
// kh×kw over x [n, H, W, C] with `stride` give y [n, OH, OW, F] from weights [kh·kw·C, F].
struct ConvGeom {
  std::size_t n, H, W, C;
  std::size_t row0, row1;  // only rows [row0, row1) of x may hold non-zeros; the rest is skipped
  std::size_t kh, kw, stride;
  std::size_t OH, OW, F;
  std::size_t taps() const { return kh * kw * C; }
};

struct Kernels {
  Isa isa;
  std::size_t nr;  // outputs per vector block; buffers below are sized with round_up(F, nr)
  // y = bias (or 0 when null) + conv(x, w). pack: (taps() + 1) × round_up(F, nr) floats.
  void (*conv_forward)(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y, float* pack);
  // dw [taps(), F] += Σ over samples and output pixels of patch ⊗ dz, in that order. dz rows are
  // ldz floats apart, ldz ≥ round_up(F, nr); the floats past F in each row are read but unused.
  void (*conv_backward_weights)(const ConvGeom& g, const float* x, const float* dz, std::size_t ldz, float* dw);
  // Valid max pooling over x [n, H, W, C]; idx gets each maximum's offset within its sample,
  // the first in row-major window order on ties.
  void (*maxpool_forward)(const float* x, std::size_t n, std::size_t H, std::size_t W, std::size_t C,
                          std::size_t pool, std::size_t stride, std::size_t OH, std::size_t OW, float* y,
                          std::uint32_t* idx);
  // v = 1 / (1 + e^-v) in place, e^t to within 2 ulp (a NaN stays NaN).
  void (*sigmoid)(float* v, std::size_t n);
};

// The kernels in use: those of num::active_isa().
const Kernels& kernels();
// A given set, or null when the CPU cannot run it; for tests.
const Kernels* kernels_for(Isa isa);
// The AVX2 kernels with the AVX-512 kernels' tile sizes, or null without AVX2; for tests.
const Kernels* avx2_tiled_as_avx512();

inline std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }

}  // namespace untangle::nn
