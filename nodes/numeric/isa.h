// The instruction sets the numeric kernels are compiled for, and which one a process uses.
// Every kernel set gives the same bits as every other (each output is one fixed chain of
// operations; vectors only hold different outputs side by side), so the choice is about speed
// and testing only and never enters a cache key.
#pragma once

// Outputs must not depend on how the compiler was told to optimise: no reassociation, no
// reciprocals, no assumptions about NaN or infinity. CMake compiles the project with
// -fno-fast-math -ffp-contract=off; this stops a build that overrode it.
#if defined(__FAST_MATH__) || defined(__ASSOCIATIVE_MATH__) || defined(__RECIPROCAL_MATH__) || \
    (defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__)
#error "untangle's numeric code must be compiled without -ffast-math and its parts (see CMakeLists.txt)"
#endif

#include <vector>

namespace untangle::num {

enum class Isa { generic, avx2, avx512 };
const char* isa_name(Isa isa);

// What the CPU (and the OS, which must save the wider registers) runs, ignoring UNTANGLE_ISA.
Isa cpu_isa();
// The set in use: the widest the CPU runs, or the one UNTANGLE_ISA names (generic, avx2, avx512;
// never wider than the CPU runs; anything else is an error). Chosen once per process.
Isa active_isa();
// Whether the CPU runs `isa`.
inline bool runs(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(cpu_isa()); }
// Every set the CPU runs, narrowest first; for tests that compare them.
std::vector<Isa> runnable_isas();

// a·b + c rounded twice, as written. Compiled like every numeric file, so a test can prove
// that the build does not contract it into a fused multiply-add.
double unfused_multiply_add(double a, double b, double c);

}  // namespace untangle::num
