// The kernels for AVX-512 (compiled with -mavx512f -mfma): 12 pixels × 32 filters a tile, 24
// accumulators of the 32 zmm registers.
#include <immintrin.h>

#include "nodes/nn/kernels_impl.h"

namespace untangle::nn {
namespace {

struct Avx512 {
  static constexpr std::size_t W = 16;
  using F = __m512;
  using I = __m512i;
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F bcast(const float* p) { return _mm512_set1_ps(*p); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static I index(std::uint32_t at) {
    return _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(at)),
                            _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
  }
  static void store_index(std::uint32_t* p, I v) { _mm512_storeu_si512(p, v); }
  static void keep_max(F& best, I& at, F v, I i) {
    const __mmask16 more = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
    best = _mm512_mask_blend_ps(more, best, v);
    at = _mm512_mask_blend_epi32(more, at, i);
  }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F pow2(F n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
};

}  // namespace

extern const Kernels kAvx512Kernels = {Isa::avx512, 32, conv_forward_t<Avx512, 12, 2>,
                                       conv_backward_weights_t<Avx512, 12, 2>, maxpool_forward_t<Avx512>, sigmoid_t<Avx512>};

}  // namespace untangle::nn
