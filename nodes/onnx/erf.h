// The error function, which nodes/numeric does not provide: from num::exp and IEEE-754
// additions, multiplications and divisions only, so that Erf gives the same bits on every CPU
// (libm's erf differs between glibc's variants and versions). Within a few units in the last
// place of double, far below the float32 rounding the Erf op applies.
#pragma once

namespace untangle::onnx {

double erf(double x);

}  // namespace untangle::onnx
