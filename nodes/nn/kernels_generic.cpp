// The scalar kernels: for CPUs without AVX2 and FMA, and as the reference the vector kernels
// must match bit for bit. fmaf rounds once, as the vector fma instructions do.
#include "nodes/nn/kernels_impl.h"

namespace untangle::nn {
namespace {

struct Scalar {
  static constexpr std::size_t W = 1;
  using F = float;
  using I = std::uint32_t;
  static F load(const float* p) { return *p; }
  static void store(float* p, F v) { *p = v; }
  static F bcast(const float* p) { return *p; }
  static F fma(F a, F b, F c) { return __builtin_fmaf(a, b, c); }
  static I index(std::uint32_t at) { return at; }
  static void store_index(std::uint32_t* p, I v) { *p = v; }
  static void keep_max(F& best, I& at, F v, I i) {
    if (v > best) best = v, at = i;
  }
  static F set1(float v) { return v; }
  static F add(F a, F b) { return a + b; }
  static F sub(F a, F b) { return a - b; }
  static F mul(F a, F b) { return a * b; }
  static F div(F a, F b) { return a / b; }
  static F min(F a, F b) { return a < b ? a : b; }
  static F max(F a, F b) { return a > b ? a : b; }
  static F pow2(F n) {  // a NaN (whose product is NaN anyway) is not converted: that would be undefined
    return __builtin_bit_cast(float, static_cast<std::uint32_t>((n == n ? static_cast<int>(n) : 0) + 127) << 23);
  }
};

}  // namespace

extern const Kernels kGenericKernels = {Isa::generic, 4, conv_forward_t<Scalar, 4, 4>,
                                        conv_backward_weights_t<Scalar, 4, 4>, maxpool_forward_t<Scalar>, sigmoid_t<Scalar>};

}  // namespace untangle::nn
