// The kernels for AVX-512 (compiled with -mavx512f -mfma): 12 pixels × 32 filters a tile, 24
// accumulators of the 32 zmm registers.
#include <immintrin.h>

#include "nodes/nn/conv_kernels_impl.h"

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
};

}  // namespace

extern const Kernels kAvx512Kernels = {Isa::avx512, 32, conv_forward_t<Avx512, 12, 2>,
                                       conv_backward_weights_t<Avx512, 12, 2>, maxpool_forward_t<Avx512>};

}  // namespace untangle::nn
