// The kernels for AVX2 with FMA (compiled with -mavx2 -mfma): 6 pixels × 16 filters a tile,
// 12 accumulators of the 16 ymm registers.
#include <immintrin.h>

#include "nodes/nn/kernels_impl.h"

namespace untangle::nn {
namespace {

struct Avx2 {
  static constexpr std::size_t W = 8;
  using F = __m256;
  using I = __m256i;
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static I index(std::uint32_t at) {
    return _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(at)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static void store_index(std::uint32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static void keep_max(F& best, I& at, F v, I i) {
    const F more = _mm256_cmp_ps(v, best, _CMP_GT_OQ);  // false for NaN, as a scalar >
    best = _mm256_blendv_ps(best, v, more);
    at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at), _mm256_castsi256_ps(i), more));
  }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F pow2(F n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
};

}  // namespace

extern const Kernels kAvx2Kernels = {Isa::avx2, 16, conv_forward_t<Avx2, 6, 2>, conv_backward_weights_t<Avx2, 6, 2>,
                                     maxpool_forward_t<Avx2>, sigmoid_t<Avx2>};
// For tests: tiles of 12 × 32 as the AVX-512 kernels have, their short tiles and partial blocks
// exercised where AVX-512 is missing (slowly: the tile does not fit the registers).
extern const Kernels kAvx2Kernels12x32 = {Isa::avx2, 32, conv_forward_t<Avx2, 12, 4>,
                                          conv_backward_weights_t<Avx2, 12, 4>, maxpool_forward_t<Avx2>, sigmoid_t<Avx2>};

}  // namespace untangle::nn
