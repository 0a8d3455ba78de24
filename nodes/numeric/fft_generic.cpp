// The transforms without vector instructions: for CPUs without AVX2 and FMA, and the reference
// the vector sets must match bit for bit. Four lanes of plain floats (which the compiler may
// put in SSE registers: the operations per lane stay the same).
#include "nodes/numeric/fft_impl.h"

namespace untangle::num::fft {
namespace {

struct Scalar4 {
  static constexpr std::size_t W = 4;
  struct F {
    float v[4];
  };
  static F load(const float* p) { return {{p[0], p[1], p[2], p[3]}}; }
  static void store(float* p, F a) {
    for (std::size_t i = 0; i < W; ++i) p[i] = a.v[i];
  }
  static F set1(float x) { return {{x, x, x, x}}; }
  static F add(F a, F b) { return {{a.v[0] + b.v[0], a.v[1] + b.v[1], a.v[2] + b.v[2], a.v[3] + b.v[3]}}; }
  static F sub(F a, F b) { return {{a.v[0] - b.v[0], a.v[1] - b.v[1], a.v[2] - b.v[2], a.v[3] - b.v[3]}}; }
  static F mul(F a, F b) { return {{a.v[0] * b.v[0], a.v[1] * b.v[1], a.v[2] * b.v[2], a.v[3] * b.v[3]}}; }
};

}  // namespace

extern const Kernels kGenericFft = {Isa::generic, Scalar4::W, forward_t<Scalar4>, inverse_t<Scalar4>};

}  // namespace untangle::num::fft
