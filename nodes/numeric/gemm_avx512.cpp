// The kernels for AVX-512 (compiled with -mavx512f -mfma): tiles of 12 rows × 2 vectors, 24
// accumulators of the 32 zmm registers.
#include <immintrin.h>

#include "nodes/numeric/gemm_impl.h"

namespace untangle::num {
namespace {

// The shuffles through their masked forms with every lane kept: the plain ones pass GCC 12's
// _mm512_undefined_ps, which it then warns is used uninitialized (its bug 105593).
inline __m512 unpacklo(__m512 a, __m512 b) { return _mm512_mask_unpacklo_ps(a, 0xFFFF, a, b); }
inline __m512 unpackhi(__m512 a, __m512 b) { return _mm512_mask_unpackhi_ps(a, 0xFFFF, a, b); }
inline __m512d unpacklo(__m512d a, __m512d b) { return _mm512_mask_unpacklo_pd(a, 0xFF, a, b); }
inline __m512d unpackhi(__m512d a, __m512d b) { return _mm512_mask_unpackhi_pd(a, 0xFF, a, b); }
#define UNTANGLE_SHUFFLE_PS(a, b, imm) _mm512_mask_shuffle_ps(a, 0xFFFF, a, b, imm)
#define UNTANGLE_SHUFFLE_F32X4(a, b, imm) _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, b, imm)
#define UNTANGLE_SHUFFLE_F64X2(a, b, imm) _mm512_mask_shuffle_f64x2(a, 0xFF, a, b, imm)

struct F32v {
  using T = float;
  using R = __m512;
  static constexpr std::size_t W = 16;
  static R load(const T* p) { return _mm512_loadu_ps(p); }
  static void store(T* p, R v) { _mm512_storeu_ps(p, v); }
  static R load_part(const T* p, std::size_t n) { return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p); }
  static void store_part(T* p, R v, std::size_t n) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v); }
  static R bcast(const T* p) { return _mm512_set1_ps(*p); }
  static R zero() { return _mm512_setzero_ps(); }
  // dst[q·ldd + j] = src[j·ld + q] for a 16 × 16 block: pairs of rows interleaved, then groups
  // of four, then the 128-bit lanes gathered across groups.
  static void transpose(const T* src, std::size_t ld, T* dst, std::size_t ldd) {
    R r[16], t[16], u[16];
    for (int i = 0; i < 16; ++i) r[i] = load(src + i * ld);
    for (int i = 0; i < 16; i += 2) t[i] = unpacklo(r[i], r[i + 1]), t[i + 1] = unpackhi(r[i], r[i + 1]);
    for (int g = 0; g < 16; g += 4) {  // u[g + q], lane L: column 4L + q of rows g .. g+3
      u[g] = UNTANGLE_SHUFFLE_PS(t[g], t[g + 2], 0x44), u[g + 1] = UNTANGLE_SHUFFLE_PS(t[g], t[g + 2], 0xEE);
      u[g + 2] = UNTANGLE_SHUFFLE_PS(t[g + 1], t[g + 3], 0x44), u[g + 3] = UNTANGLE_SHUFFLE_PS(t[g + 1], t[g + 3], 0xEE);
    }
    for (int q = 0; q < 4; ++q) {
      const R v0 = UNTANGLE_SHUFFLE_F32X4(u[q], u[4 + q], 0x88), v1 = UNTANGLE_SHUFFLE_F32X4(u[q], u[4 + q], 0xDD);
      const R v2 = UNTANGLE_SHUFFLE_F32X4(u[8 + q], u[12 + q], 0x88), v3 = UNTANGLE_SHUFFLE_F32X4(u[8 + q], u[12 + q], 0xDD);
      store(dst + q * ldd, UNTANGLE_SHUFFLE_F32X4(v0, v2, 0x88));
      store(dst + (4 + q) * ldd, UNTANGLE_SHUFFLE_F32X4(v1, v3, 0x88));
      store(dst + (8 + q) * ldd, UNTANGLE_SHUFFLE_F32X4(v0, v2, 0xDD));
      store(dst + (12 + q) * ldd, UNTANGLE_SHUFFLE_F32X4(v1, v3, 0xDD));
    }
  }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
};

struct F64v {
  using T = double;
  using R = __m512d;
  static constexpr std::size_t W = 8;
  static R load(const T* p) { return _mm512_loadu_pd(p); }
  static void store(T* p, R v) { _mm512_storeu_pd(p, v); }
  static R load_part(const T* p, std::size_t n) { return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p); }
  static void store_part(T* p, R v, std::size_t n) { _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v); }
  static R bcast(const T* p) { return _mm512_set1_pd(*p); }
  static R zero() { return _mm512_setzero_pd(); }
  static void transpose(const T* src, std::size_t ld, T* dst, std::size_t ldd) {  // an 8 × 8 block, as above
    R r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = load(src + i * ld);
    for (int i = 0; i < 8; i += 2) t[i] = unpacklo(r[i], r[i + 1]), t[i + 1] = unpackhi(r[i], r[i + 1]);
    for (int q = 0; q < 2; ++q) {  // t[g + q], lane L: column 2L + q of rows g, g+1
      const R v0 = UNTANGLE_SHUFFLE_F64X2(t[q], t[2 + q], 0x88), v1 = UNTANGLE_SHUFFLE_F64X2(t[q], t[2 + q], 0xDD);
      const R v2 = UNTANGLE_SHUFFLE_F64X2(t[4 + q], t[6 + q], 0x88), v3 = UNTANGLE_SHUFFLE_F64X2(t[4 + q], t[6 + q], 0xDD);
      store(dst + q * ldd, UNTANGLE_SHUFFLE_F64X2(v0, v2, 0x88));
      store(dst + (2 + q) * ldd, UNTANGLE_SHUFFLE_F64X2(v1, v3, 0x88));
      store(dst + (4 + q) * ldd, UNTANGLE_SHUFFLE_F64X2(v0, v2, 0xDD));
      store(dst + (6 + q) * ldd, UNTANGLE_SHUFFLE_F64X2(v1, v3, 0xDD));
    }
  }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
};

// Blocks of 256 steps: a panel (256 × 32 floats or 256 × 16 doubles, 32 KiB) stays in L1 while
// a block's tiles take it; the packed block of B (up to 1024 float or 512 double columns, 1 MiB)
// in L2.
using F32 = GemmT<F32v, 12, 2, 256, 192, 1024>;
using F64 = GemmT<F64v, 12, 2, 256, 192, 512>;

}  // namespace

#undef UNTANGLE_SHUFFLE_PS
#undef UNTANGLE_SHUFFLE_F32X4
#undef UNTANGLE_SHUFFLE_F64X2

extern const GemmKernels kGemmAvx512 = {Isa::avx512,          F32::run,       F32::scratch,   F64::run, F64::scratch,
                                     F64::NR,           F64::gram_pack, F64::gram_panel};

}  // namespace untangle::num
