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
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
};

using F32 = GemmT<F32v, 6, 2, 256, 144, 1024>;
using F64 = GemmT<F64v, 6, 2, 256, 144, 512>;

}  // namespace

extern const GemmKernels kGemmAvx2 = {Isa::avx2, F32::run, F32::scratch, F64::run, F64::scratch};

}  // namespace untangle::num
