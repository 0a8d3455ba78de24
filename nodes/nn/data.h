// What the nn ops need of their input tensors: float32 samples and small integer labels.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "nodes/nn/layer.h"
#include "pipeline/tensor.h"

namespace untangle::nn {

inline Shape sample_shape(const Tensor& x, const char* port) {
  if (x.dtype != DType::f32 || x.shape.size() < 2)
    throw std::runtime_error(std::string(port) + " must be float32 with a sample axis first, got " + dtype_name(x.dtype) +
                             " " + shape_string(x.shape));
  return Shape(x.shape.begin() + 1, x.shape.end());
}

inline std::vector<std::uint8_t> class_labels(const Tensor& y, std::size_t rows, std::size_t classes, const char* port) {
  if (y.dtype == DType::str || y.size() != rows)
    throw std::runtime_error(std::string(port) + " must hold one integer label per sample (" + std::to_string(rows) +
                             "), got " + dtype_name(y.dtype) + " " + shape_string(y.shape));
  std::vector<std::uint8_t> out(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const double v = y.at(i);
    if (v < 0 || v >= static_cast<double>(classes) || v != static_cast<double>(static_cast<long>(v)))
      throw std::runtime_error(std::string(port) + "[" + std::to_string(i) + "] = " + std::to_string(v) +
                               " is not a class of a model with " + std::to_string(classes) + " outputs");
    out[i] = static_cast<std::uint8_t>(v);
  }
  return out;
}

}  // namespace untangle::nn
