// The transforms with AVX2 (compiled with -mavx2 -mfma, though they use no fused multiply-add):
// eight rows or columns a vector.
#include <immintrin.h>

#include "nodes/numeric/fft_impl.h"

namespace untangle::num::fft {
namespace {

struct Avx2 {
  static constexpr std::size_t W = 8;
  using F = __m256;
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
};

}  // namespace

extern const Kernels kAvx2Fft = {Isa::avx2, Avx2::W, forward_t<Avx2>, inverse_t<Avx2>};

}  // namespace untangle::num::fft
