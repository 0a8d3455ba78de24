// Placeholder until the kernels land: one scalar chain per output, as gemm.h defines it.
#include "nodes/numeric/gemm.h"

#include <cmath>

namespace untangle::num {

namespace {

template <class T>
T fused(T a, T b, T c) {
  if constexpr (sizeof(T) == 4) return __builtin_fmaf(a, b, c);
  else return __builtin_fma(a, b, c);
}

template <class T>
void reference(const GemmShape& s, const T* a, const T* b, T* c) {
  for (std::size_t i = 0; i < s.m; ++i)
    for (std::size_t j = 0; j < s.n; ++j) {
      T acc = s.accumulate ? c[i * s.ldc + j] : T(0);
      for (std::size_t p = 0; p < s.k; ++p) {
        const T x = s.ta == Op::none ? a[i * s.lda + p] : a[p * s.lda + i];
        const T y = s.tb == Op::none ? b[p * s.ldb + j] : b[j * s.ldb + p];
        acc = fused(x, y, acc);
      }
      c[i * s.ldc + j] = acc;
    }
}

}  // namespace

void gemm(const GemmShape& s, const float* a, const float* b, float* c) { reference(s, a, b, c); }
void gemm(const GemmShape& s, const double* a, const double* b, double* c) { reference(s, a, b, c); }
void parallel_gemm(const GemmShape& s, const float* a, const float* b, float* c) { reference(s, a, b, c); }
void parallel_gemm(const GemmShape& s, const double* a, const double* b, double* c) { reference(s, a, b, c); }
void gemm(Isa, const GemmShape& s, const float* a, const float* b, float* c) { reference(s, a, b, c); }
void gemm(Isa, const GemmShape& s, const double* a, const double* b, double* c) { reference(s, a, b, c); }

void gram(std::size_t n, std::size_t d, const double* x, std::size_t ldx, double* c) {
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = i; j < d; ++j) {
      double acc = 0;
      for (std::size_t r = 0; r < n; ++r) acc = __builtin_fma(x[r * ldx + i], x[r * ldx + j], acc);
      c[i * d + j] = c[j * d + i] = acc;
    }
}

}  // namespace untangle::num
