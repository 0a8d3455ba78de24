#include "nodes/nn/kernels.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <string>

namespace untangle::nn {

extern const Kernels kGenericKernels, kAvx2Kernels, kAvx2Kernels12x32, kAvx512Kernels;

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::generic: return "generic";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

Isa cpu_isa() {
  __builtin_cpu_init();  // these also check that the OS saves the wider registers
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
  return Isa::generic;
}

const Kernels* kernels_for(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(cpu_isa())) return nullptr;
  switch (isa) {
    case Isa::generic: return &kGenericKernels;
    case Isa::avx2: return &kAvx2Kernels;
    case Isa::avx512: return &kAvx512Kernels;
  }
  return nullptr;
}

const Kernels* avx2_tiled_as_avx512() { return kernels_for(Isa::avx2) ? &kAvx2Kernels12x32 : nullptr; }

namespace {

// All sets compute the same bits (see kernels.h), so the choice is about speed and
// testing only and stays out of cache keys.
const Kernels& choose() {
  Isa isa = cpu_isa();
  if (const char* env = std::getenv("UNTANGLE_ISA"); env && *env) {
    const std::string want = env;
    const Isa all[] = {Isa::generic, Isa::avx2, Isa::avx512};
    const Isa* asked = std::find_if(std::begin(all), std::end(all), [&](Isa i) { return want == isa_name(i); });
    if (asked == std::end(all)) throw std::runtime_error("UNTANGLE_ISA=" + want + ": expected generic, avx2 or avx512");
    if (static_cast<int>(*asked) < static_cast<int>(isa)) isa = *asked;
  }
  return *kernels_for(isa);
}

}  // namespace

const Kernels& kernels() {
  static const Kernels& chosen = choose();
  return chosen;
}

}  // namespace untangle::nn
