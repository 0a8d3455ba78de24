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
};

}  // namespace

extern const Kernels kAvx512Fft = {Isa::avx512, Avx512::W, forward_t<Avx512>, inverse_t<Avx512>};

}  // namespace untangle::num::fft
