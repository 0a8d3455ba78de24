#include "nodes/nn/activation.h"

#include "nodes/nn/kernels.h"
#include "nodes/numeric/elementary.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace untangle::nn {

Act parse_act(const std::string& name) {
  if (name == "linear") return Act::linear;
  if (name == "sigmoid") return Act::sigmoid;
  if (name == "relu") return Act::relu;
  if (name == "tanh") return Act::tanh;
  if (name == "softmax") return Act::softmax;
  throw std::invalid_argument("unknown activation '" + name + "' (sigmoid, relu, tanh, softmax or linear)");
}

const char* act_name(Act a) {
  switch (a) {
    case Act::linear: return "linear";
    case Act::sigmoid: return "sigmoid";
    case Act::relu: return "relu";
    case Act::tanh: return "tanh";
    case Act::softmax: return "softmax";
  }
  return "?";
}

void activate(Act a, float* v, std::size_t n, std::size_t width) {
  const std::size_t total = n * width;
  switch (a) {
    case Act::linear: return;
    case Act::sigmoid:
      kernels().sigmoid(v, total);
      return;
    case Act::relu:
      for (std::size_t i = 0; i < total; ++i) v[i] = std::max(v[i], 0.0f);
      return;
    case Act::tanh:
      for (std::size_t i = 0; i < total; ++i) v[i] = static_cast<float>(num::tanh(v[i]));
      return;
    case Act::softmax:
      for (std::size_t r = 0; r < n; ++r) {
        float* row = v + r * width;
        const float m = *std::max_element(row, row + width);  // shift: exp never overflows
        float sum = 0;
        for (std::size_t j = 0; j < width; ++j) sum += row[j] = static_cast<float>(num::exp(row[j] - m));
        for (std::size_t j = 0; j < width; ++j) row[j] /= sum;
      }
      return;
  }
}

void activate_backward(Act a, const float* y, const float* dy, float* dz, std::size_t n, std::size_t width) {
  const std::size_t total = n * width;
  switch (a) {
    case Act::linear:
      if (dz != dy) std::copy(dy, dy + total, dz);
      return;
    case Act::sigmoid:
      for (std::size_t i = 0; i < total; ++i) dz[i] = dy[i] * y[i] * (1.0f - y[i]);
      return;
    case Act::relu:
      for (std::size_t i = 0; i < total; ++i) {
        const float g = dy[i];  // loaded first, so the select compiles without a branch
        dz[i] = y[i] > 0 ? g : 0.0f;
      }
      return;
    case Act::tanh:
      for (std::size_t i = 0; i < total; ++i) dz[i] = dy[i] * (1.0f - y[i] * y[i]);
      return;
    case Act::softmax:
      // dz_i = y_i (dy_i - sum_j dy_j y_j): the softmax Jacobian applied to dy.
      for (std::size_t r = 0; r < n; ++r) {
        const float* yr = y + r * width;
        const float* dyr = dy + r * width;
        float dot = 0;
        for (std::size_t j = 0; j < width; ++j) dot += dyr[j] * yr[j];
        float* dzr = dz + r * width;
        for (std::size_t j = 0; j < width; ++j) dzr[j] = yr[j] * (dyr[j] - dot);
      }
      return;
  }
}

}  // namespace untangle::nn
