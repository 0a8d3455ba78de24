// The kernels for AVX-512 (compiled with -mavx512f -mfma): tiles of 12 rows × 2 vectors, 24
// accumulators of the 32 zmm registers.
#include <immintrin.h>

#include "nodes/numeric/gemm_impl.h"

namespace untangle::num {
namespace {

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
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
};

using F32 = GemmT<F32v, 12, 2, 256, 192, 1024>;
using F64 = GemmT<F64v, 12, 2, 256, 192, 512>;

}  // namespace

extern const GemmKernels kGemmAvx512 = {Isa::avx512, F32::run, F32::scratch, F64::run, F64::scratch};

}  // namespace untangle::num
