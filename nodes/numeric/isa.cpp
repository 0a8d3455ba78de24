#include "nodes/numeric/isa.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <string>

namespace untangle::num {

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

namespace {

Isa choose() {
  Isa isa = cpu_isa();
  if (const char* env = std::getenv("UNTANGLE_ISA"); env && *env) {
    const std::string want = env;
    const Isa all[] = {Isa::generic, Isa::avx2, Isa::avx512};
    const Isa* asked = std::find_if(std::begin(all), std::end(all), [&](Isa i) { return want == isa_name(i); });
    if (asked == std::end(all)) throw std::runtime_error("UNTANGLE_ISA=" + want + ": expected generic, avx2 or avx512");
    if (static_cast<int>(*asked) < static_cast<int>(isa)) isa = *asked;
  }
  return isa;
}

}  // namespace

Isa active_isa() {
  static const Isa chosen = choose();
  return chosen;
}

std::vector<Isa> runnable_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (runs(isa)) out.push_back(isa);
  return out;
}

double unfused_multiply_add(double a, double b, double c) { return a * b + c; }

}  // namespace untangle::num
