// Weight initialisers, as Keras defines them. Biases always start at zero.
#pragma once
#include <string>
#include <vector>

#include "nodes/common/random.h"

namespace untangle::nn {

enum class Init { glorot_uniform, he_uniform, he_normal, zeros };

Init parse_init(const std::string& name);  // throws std::invalid_argument listing the choices

// Fills w with fan_in/fan_out scaled values: glorot_uniform U(±sqrt(6/(in+out))), he_uniform
// U(±sqrt(6/in)), he_normal N(0, 2/in) truncated at two standard deviations (as Keras).
void initialise(Init init, std::vector<float>& w, std::size_t fan_in, std::size_t fan_out, Rng& rng);

}  // namespace untangle::nn
