#include "nodes/nn/kernels.h"

namespace untangle::nn {

extern const Kernels kGenericKernels, kAvx2Kernels, kAvx2Kernels12x32, kAvx512Kernels;

const Kernels* kernels_for(Isa isa) {
  if (!num::runs(isa)) return nullptr;
  switch (isa) {
    case Isa::generic: return &kGenericKernels;
    case Isa::avx2: return &kAvx2Kernels;
    case Isa::avx512: return &kAvx512Kernels;
  }
  return nullptr;
}

const Kernels* avx2_tiled_as_avx512() { return kernels_for(Isa::avx2) ? &kAvx2Kernels12x32 : nullptr; }

const Kernels& kernels() {
  static const Kernels& chosen = *kernels_for(num::active_isa());
  return chosen;
}

}  // namespace untangle::nn
