// The transforms with AVX-512 (compiled with -mavx512f): sixteen rows or columns a vector.
#include <immintrin.h>

#include "nodes/numeric/fft_impl.h"

namespace untangle::num::fft {
namespace {

struct Avx512 {
  static constexpr std::size_t W = 16;
  using F = __m512;
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  // 16 × 16: pairs of rows interleaved, then quadruples within each 128-bit lane; then the lanes
  // gathered across four vectors twice.
  static void transpose(F* r) {
    F t[16], u[16];
    for (int i = 0; i < 8; ++i) t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]), t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    for (int i = 0; i < 4; ++i) {
      u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
      u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
      u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
      u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    // u[4i + j], 128-bit lane k: rows 4i…4i+3 of column 4k + j.
    for (int j = 0; j < 4; ++j) {
      const F v = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88), w = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xDD);
      const F v2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88), w2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xDD);
      r[j] = _mm512_shuffle_f32x4(v, v2, 0x88);
      r[4 + j] = _mm512_shuffle_f32x4(w, w2, 0x88);
      r[8 + j] = _mm512_shuffle_f32x4(v, v2, 0xDD);
      r[12 + j] = _mm512_shuffle_f32x4(w, w2, 0xDD);
    }
  }
  static void deinterleave(const float* p, F& re, F& im) {
    const F a = _mm512_loadu_ps(p), b = _mm512_loadu_ps(p + 16);
    re = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
    im = _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
  }
  static void interleave(float* p, F re, F im) {
    _mm512_storeu_ps(p, _mm512_permutex2var_ps(re, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), im));
    _mm512_storeu_ps(p + 16,
                     _mm512_permutex2var_ps(re, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), im));
  }
};

}  // namespace

extern const Kernels kAvx512Fft = {Isa::avx512, Avx512::W, forward_t<Avx512>, inverse_t<Avx512>};

}  // namespace untangle::num::fft
