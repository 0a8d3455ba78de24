// Elementary functions in double, the same bits on every machine. glibc picks among variants of
// exp, log, pow, sin, cos and atan2 by CPU (with and without FMA) and changes them between
// versions; these are one fixed sequence of IEEE-754 additions, multiplications and divisions
// (no fused multiply-add, no call into libm but for correctly rounded sqrt), so every op that
// calls them gets the same result on every x86-64 CPU and on any other IEEE-754 machine.
// Accuracy against a 113-bit reference (tests/elementary_test.cpp): within 0.52 ulp of the exact
// value (pow 0.6), subnormal results included; special values as C99 Annex F. sin and cos reduce
// every finite argument exactly enough, however large.
#pragma once

namespace untangle::num {

double exp(double x);
double log(double x);
double pow(double x, double y);
double sin(double x);
double cos(double x);
void sincos(double x, double& s, double& c);
double atan2(double y, double x);
double tanh(double x);

}  // namespace untangle::num
