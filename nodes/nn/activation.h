// Element-wise activations and their derivatives, written in terms of the activation's output
// (y), which is what backward passes keep.
#pragma once
#include <cstddef>
#include <string>

namespace untangle::nn {

enum class Act { linear, sigmoid, relu, tanh, softmax };

Act parse_act(const std::string& name);  // throws std::invalid_argument listing the choices
const char* act_name(Act a);

// Applies `a` in place to n rows of width `width` (softmax works per row).
void activate(Act a, float* v, std::size_t n, std::size_t width);
// dz from dy and y = act(z), per row of width `width`; dz may alias dy.
void activate_backward(Act a, const float* y, const float* dy, float* dz, std::size_t n, std::size_t width);

}  // namespace untangle::nn
