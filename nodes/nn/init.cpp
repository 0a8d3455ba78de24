#include "nodes/nn/init.h"

#include <cmath>
#include <stdexcept>

namespace untangle::nn {

Init parse_init(const std::string& name) {
  if (name == "glorot_uniform") return Init::glorot_uniform;
  if (name == "he_uniform") return Init::he_uniform;
  if (name == "he_normal") return Init::he_normal;
  if (name == "zeros") return Init::zeros;
  throw std::invalid_argument("unknown initialiser '" + name + "' (glorot_uniform, he_uniform, he_normal or zeros)");
}

void initialise(Init init, std::vector<float>& w, std::size_t fan_in, std::size_t fan_out, Rng& rng) {
  switch (init) {
    case Init::zeros:
      std::fill(w.begin(), w.end(), 0.0f);
      return;
    case Init::glorot_uniform:
    case Init::he_uniform: {
      const double limit = init == Init::glorot_uniform ? std::sqrt(6.0 / (fan_in + fan_out)) : std::sqrt(6.0 / fan_in);
      for (auto& v : w) v = static_cast<float>((2 * rng.uniform() - 1) * limit);
      return;
    }
    case Init::he_normal: {
      // Keras draws from a normal truncated at 2 sd, with sd scaled so the variance is 2/fan_in.
      const double sd = std::sqrt(2.0 / fan_in) / 0.87962566103423978;
      for (auto& v : w) {
        double z;
        do z = rng.normal();
        while (std::abs(z) > 2);
        v = static_cast<float>(z * sd);
      }
      return;
    }
  }
}

}  // namespace untangle::nn
