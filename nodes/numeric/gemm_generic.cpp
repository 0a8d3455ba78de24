// The scalar kernels: for CPUs without AVX2 and FMA, and the reference the vector kernels must
// match bit for bit. fmaf and fma round once, as the vector fma instructions do.
#include "nodes/numeric/gemm_impl.h"

namespace untangle::num {
namespace {

template <class E>
struct Scalar {
  using T = E;
  using R = E;
  static constexpr std::size_t W = 1;
  static R load(const T* p) { return *p; }
  static void store(T* p, R v) { *p = v; }
  static R load_part(const T* p, std::size_t) { return *p; }  // never called: W = 1 has no partial vector
  static void store_part(T* p, R v, std::size_t) { *p = v; }
  static R bcast(const T* p) { return *p; }
  static R zero() { return T(0); }
  static void transpose(const T* src, std::size_t, T* dst, std::size_t) { *dst = *src; }
  static R fma(R a, R b, R c) {
    if constexpr (sizeof(T) == 4) return __builtin_fmaf(a, b, c);
    else return __builtin_fma(a, b, c);
  }
};

// 4 × 4 tiles: 16 accumulators in the 16 xmm registers.
using F32 = GemmT<Scalar<float>, 4, 4, 256, 128, 1024>;
using F64 = GemmT<Scalar<double>, 4, 4, 256, 128, 512>;

}  // namespace

extern const GemmKernels kGemmGeneric = {Isa::generic,          F32::run,       F32::scratch,   F64::run, F64::scratch,
                                     F64::NR,           F64::gram_pack, F64::gram_panel};

}  // namespace untangle::num
