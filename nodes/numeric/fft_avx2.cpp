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
  static void transpose(F* r) {
    F t[8], u[8];
    for (int i = 0; i < 4; ++i) t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]), t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    for (int i = 0; i < 2; ++i) {
      u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
      u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
      u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
      u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int j = 0; j < 4; ++j) r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20), r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
  // The shuffles work within 128-bit halves; a permutation of 64-bit pairs puts the halves in order.
  static void deinterleave(const float* p, F& re, F& im) {
    const F a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    re = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
    im = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
  }
  static void interleave(float* p, F re, F im) {
    const F r = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(re), 0xD8));
    const F i = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(im), 0xD8));
    _mm256_storeu_ps(p, _mm256_unpacklo_ps(r, i));
    _mm256_storeu_ps(p + 8, _mm256_unpackhi_ps(r, i));
  }
};

}  // namespace

extern const Kernels kAvx2Fft = {Isa::avx2, Avx2::W, forward_t<Avx2>, inverse_t<Avx2>};

}  // namespace untangle::num::fft
