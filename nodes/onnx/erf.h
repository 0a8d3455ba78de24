// The error function, which nodes/numeric does not provide: from num::exp and IEEE-754
// additions, multiplications and divisions only, so that Erf gives the same bits on every CPU
// (libm's erf differs between glibc's variants and versions). Its relative error is below 1e-14
// (at worst about 10 units in the last place of double, near |x| = 5): 10⁷ times finer than the
// float32 rounding the Erf op applies, which it changes only for a value at a rounding boundary.
#pragma once

namespace untangle::onnx {

double erf(double x);

}  // namespace untangle::onnx
