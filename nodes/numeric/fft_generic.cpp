// The transforms without AVX: for CPUs without AVX2 and FMA, and the reference the wider sets
// must match bit for bit. Four lanes: SSE2's registers, which every x86-64 has, or plain floats
// elsewhere; the operations per lane are the same either way.
#include "nodes/numeric/fft_impl.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace untangle::num::fft {
namespace {

#if defined(__SSE2__)
struct Lanes4 {
  static constexpr std::size_t W = 4;
  using F = __m128;
  static F load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, F v) { _mm_storeu_ps(p, v); }
  static F set1(float v) { return _mm_set1_ps(v); }
  static F add(F a, F b) { return _mm_add_ps(a, b); }
  static F sub(F a, F b) { return _mm_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm_mul_ps(a, b); }
  static void transpose(F* r) { _MM_TRANSPOSE4_PS(r[0], r[1], r[2], r[3]); }
  static void deinterleave(const float* p, F& re, F& im) {
    const F a = _mm_loadu_ps(p), b = _mm_loadu_ps(p + 4);
    re = _mm_shuffle_ps(a, b, 0x88), im = _mm_shuffle_ps(a, b, 0xDD);
  }
  static void interleave(float* p, F re, F im) {
    _mm_storeu_ps(p, _mm_unpacklo_ps(re, im));
    _mm_storeu_ps(p + 4, _mm_unpackhi_ps(re, im));
  }
};
#else
struct Lanes4 {
  static constexpr std::size_t W = 4;
  struct F {
    float v[4];
  };
  static F load(const float* p) { return {{p[0], p[1], p[2], p[3]}}; }
  static void store(float* p, F a) {
    for (std::size_t i = 0; i < W; ++i) p[i] = a.v[i];
  }
  static F set1(float x) { return {{x, x, x, x}}; }
  static F add(F a, F b) { return {{a.v[0] + b.v[0], a.v[1] + b.v[1], a.v[2] + b.v[2], a.v[3] + b.v[3]}}; }
  static F sub(F a, F b) { return {{a.v[0] - b.v[0], a.v[1] - b.v[1], a.v[2] - b.v[2], a.v[3] - b.v[3]}}; }
  static F mul(F a, F b) { return {{a.v[0] * b.v[0], a.v[1] * b.v[1], a.v[2] * b.v[2], a.v[3] * b.v[3]}}; }
  static void transpose(F* r) {
    for (std::size_t i = 0; i < W; ++i)
      for (std::size_t j = i + 1; j < W; ++j) {
        const float t = r[i].v[j];
        r[i].v[j] = r[j].v[i], r[j].v[i] = t;
      }
  }
  static void deinterleave(const float* p, F& re, F& im) {
    re = {{p[0], p[2], p[4], p[6]}}, im = {{p[1], p[3], p[5], p[7]}};
  }
  static void interleave(float* p, F re, F im) {
    for (std::size_t i = 0; i < W; ++i) p[2 * i] = re.v[i], p[2 * i + 1] = im.v[i];
  }
};
#endif

}  // namespace

extern const Kernels kGenericFft = {Isa::generic, Lanes4::W, forward_t<Lanes4>, inverse_t<Lanes4>};

}  // namespace untangle::num::fft
