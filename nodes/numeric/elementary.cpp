// Placeholder until the own implementations land: forwards to libm.
#include "nodes/numeric/elementary.h"

#include <cmath>

namespace untangle::num {

double exp(double x) { return std::exp(x); }
double log(double x) { return std::log(x); }
double pow(double x, double y) { return std::pow(x, y); }
double sin(double x) { return std::sin(x); }
double cos(double x) { return std::cos(x); }
void sincos(double x, double& s, double& c) { s = std::sin(x), c = std::cos(x); }
double atan2(double y, double x) { return std::atan2(y, x); }
double tanh(double x) { return std::tanh(x); }

}  // namespace untangle::num
