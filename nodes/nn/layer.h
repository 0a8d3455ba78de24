// A layer of a feed-forward network. Layers hold their weights and nothing else: everything a
// forward or backward pass produces lives in the caller's per-chunk workspace, so several
// chunks of a batch can run through the same layer at once.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "nodes/common/random.h"

namespace untangle::nn {

using Shape = std::vector<std::size_t>;  // one sample's shape, e.g. {28, 28, 1}

inline std::size_t volume(const Shape& s) {
  std::size_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// A trainable variable in Keras layout: dense kernel [in, out], conv kernel [kh, kw, in, out],
// bias [out].
struct Param {
  std::string name;  // "kernel" or "bias"
  Shape shape;
  std::vector<float> value;
};

// Per-chunk, per-layer scratch space kept from forward to backward (pooling indices, dropout
// masks, unfolded patches).
struct Scratch {
  std::vector<float> f;
  std::vector<std::uint32_t> idx;
};

struct Pass {
  bool training = false;
  std::uint64_t seed = 0;  // for dropout: derived from (seed, epoch, batch, chunk), never from threads
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual const char* type() const = 0;  // the Keras class name, for the summary
  // Fixes the input shape; returns the output shape. Throws for an input it cannot take.
  virtual Shape build(const Shape& in) = 0;
  virtual void init(Rng&) {}
  virtual std::vector<Param*> params() { return {}; }

  // x: n samples of the input shape; y: n samples of the output shape.
  virtual void forward(const float* x, float* y, std::size_t n, Scratch& s, const Pass& p) const = 0;
  // Given dy = dL/dy, adds dL/dparam into grads (one buffer per param, same order) and writes
  // dx = dL/dx unless dx is null (the first layer needs none).
  virtual void backward(const float* x, const float* y, const float* dy, float* dx, std::size_t n,
                        std::vector<std::vector<float>>& grads, Scratch& s) const = 0;

  std::string name;
  Shape in_shape, out_shape;
};

}  // namespace untangle::nn
