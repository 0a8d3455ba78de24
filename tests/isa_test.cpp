#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "nodes/numeric/isa.h"

using namespace untangle::num;

TEST_CASE("numeric build: a·b + c is rounded twice, never contracted into a fused multiply-add") {
  // (1 + 2^-30)² = 1 + 2^-29 + 2^-60: the 2^-60 is lost when the product is rounded alone
  // and kept by a fused multiply-add.
  const double a = 1 + std::ldexp(1.0, -30), c = -(1 + std::ldexp(1.0, -29));
  CHECK(unfused_multiply_add(a, a, c) == 0.0);
  CHECK(std::fma(a, a, c) == std::ldexp(1.0, -60));
}

TEST_CASE("numeric isa: the widest set the CPU runs, unless UNTANGLE_ISA asks for a narrower one") {
  __builtin_cpu_init();
  const bool fma = __builtin_cpu_supports("fma");
  const Isa cpu = __builtin_cpu_supports("avx512f") && fma ? Isa::avx512
                  : __builtin_cpu_supports("avx2") && fma  ? Isa::avx2
                                                           : Isa::generic;
  CHECK(cpu_isa() == cpu);
  Isa want = cpu;
  if (const char* env = std::getenv("UNTANGLE_ISA"); env && *env) {
    const std::string asked = env;
    const Isa a = asked == "generic" ? Isa::generic : asked == "avx2" ? Isa::avx2 : Isa::avx512;
    if (static_cast<int>(a) < static_cast<int>(cpu)) want = a;
  }
  CHECK(active_isa() == want);
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512}) CHECK(runs(isa) == (static_cast<int>(isa) <= static_cast<int>(cpu)));
  CHECK(std::string(isa_name(Isa::avx2)) == "avx2");
}
