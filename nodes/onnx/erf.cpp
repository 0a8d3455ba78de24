#include "nodes/onnx/erf.h"

#include "nodes/numeric/elementary.h"

namespace untangle::onnx {

double erf(double x) {
  if (x != x) return x;
  const double a = x < 0 ? -x : x;
  // erfc(6) < 2.2e-17, below half an ulp of 1.
  if (a >= 6) return x < 0 ? -1.0 : 1.0;
  // erf(x) = 2/√π · x·e^(−x²) · Σ (2x²)ⁿ / (1·3·…·(2n+1)): every term positive, so nothing cancels
  // at any x; below 6 the terms fall under 2⁻⁶⁰ of the sum within 110 of them.
  const double x2 = a * a, ratio = 2 * x2;
  double term = 1, sum = 1;
  for (int n = 1; n < 400 && term > sum * 0x1p-60; ++n) {
    term = term * ratio / (2 * n + 1);
    sum += term;
  }
  const double r = 1.1283791670955126 * a * num::exp(-x2) * sum;
  const double clipped = r > 1 ? 1.0 : r;
  return x < 0 ? -clipped : clipped;
}

}  // namespace untangle::onnx
