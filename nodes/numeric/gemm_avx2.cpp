// The kernels for AVX2 with FMA (compiled with -mavx2 -mfma): tiles of 6 rows × 2 vectors, 12
// accumulators of the 16 ymm registers.
#include <immintrin.h>

#include "nodes/numeric/gemm_impl.h"

namespace untangle::num {
namespace {

// The first n lanes of a maskload / maskstore: lanes whose mask has its top bit set.
inline __m256i first_lanes32(std::size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline __m256i first_lanes64(std::size_t n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(n)), _mm256_setr_epi64x(0, 1, 2, 3));
}

struct F32v {
  using T = float;
  using R = __m256;
  static constexpr std::size_t W = 8;
  static R load(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, R v) { _mm256_storeu_ps(p, v); }
  static R load_part(const T* p, std::size_t n) { return _mm256_maskload_ps(p, first_lanes32(n)); }
  static void store_part(T* p, R v, std::size_t n) { _mm256_maskstore_ps(p, first_lanes32(n), v); }
  static R bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static R zero() { return _mm256_setzero_ps(); }
  // dst[q·ldd + j] = src[j·ld + q] for an 8 × 8 block.
  static void transpose(const T* src, std::size_t ld, T* dst, std::size_t ldd) {
    R r[8], t[8], u[8];
    for (int i = 0; i < 8; ++i) r[i] = load(src + i * ld);
    for (int i = 0; i < 8; i += 2) t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    for (int g = 0; g < 8; g += 4) {  // u[g + q]: column q (low half) and q + 4 (high half) of rows g .. g+3
      u[g] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44), u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
      u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44), u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (int q = 0; q < 4; ++q) {
      store(dst + q * ldd, _mm256_permute2f128_ps(u[q], u[4 + q], 0x20));
      store(dst + (q + 4) * ldd, _mm256_permute2f128_ps(u[q], u[4 + q], 0x31));
    }
  }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
};

struct F64v {
  using T = double;
  using R = __m256d;
  static constexpr std::size_t W = 4;
  static R load(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, R v) { _mm256_storeu_pd(p, v); }
  static R load_part(const T* p, std::size_t n) { return _mm256_maskload_pd(p, first_lanes64(n)); }
  static void store_part(T* p, R v, std::size_t n) { _mm256_maskstore_pd(p, first_lanes64(n), v); }
  static R bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static R zero() { return _mm256_setzero_pd(); }
  static void transpose(const T* src, std::size_t ld, T* dst, std::size_t ldd) {  // a 4 × 4 block
    R r[4];
    for (int i = 0; i < 4; ++i) r[i] = load(src + i * ld);
    const R t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const R t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    store(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
    store(dst + ldd, _mm256_permute2f128_pd(t1, t3, 0x20));
    store(dst + 2 * ldd, _mm256_permute2f128_pd(t0, t2, 0x31));
    store(dst + 3 * ldd, _mm256_permute2f128_pd(t1, t3, 0x31));
  }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
};

// Blocks of 256 steps: a panel (256 × 16 floats or 256 × 8 doubles, 16 KiB) stays in L1 while
// a block's tiles take it; the packed block of B (up to 1024 float or 512 double columns, 1 MiB)
// in L2.
using F32 = GemmT<F32v, 6, 2, 256, 144, 1024>;
using F64 = GemmT<F64v, 6, 2, 256, 144, 512>;

}  // namespace

extern const GemmKernels kGemmAvx2 = {Isa::avx2,          F32::run,       F32::scratch,   F64::run, F64::scratch,
                                     F64::NR,           F64::gram_pack, F64::gram_panel};

}  // namespace untangle::num
