// Runs a model over data: batches are cut into fixed chunks that TBB runs in parallel, each
// chunk's gradients land in a buffer of its own, and the buffers are summed in chunk order.
// The chunking never depends on the number of threads, so neither do the results.
#pragma once
#include <cstdint>
#include <vector>

#include "nodes/nn/model.h"

namespace untangle::nn {

// Gradients by layer, then by param in the layer's order.
using Grads = std::vector<std::vector<std::vector<float>>>;

struct BatchStats {
  double loss_sum = 0;     // summed cross-entropy over the batch
  std::size_t correct = 0;  // arg-max hits
};

class Runner {
 public:
  static constexpr std::size_t kChunk = 50;

  // The model's last activation must be softmax: training works on logits and folds the
  // softmax into a numerically stable cross-entropy.
  explicit Runner(Model& model);

  // Forward pass and backward pass of one batch; gradients() then holds the gradient of the
  // batch's mean loss.
  BatchStats train_batch(const float* x, const std::uint8_t* y, std::size_t n, std::uint64_t seed);
  const Grads& gradients() const { return chunk_grads_.front(); }
  // Loss and hits on data, without training; probabilities of each sample into probs if given.
  BatchStats evaluate(const float* x, const std::uint8_t* y, std::size_t n, std::vector<float>* probs = nullptr);
  // The output of layer `upto` (after its activation) for n samples, written to out.
  void forward_to(std::size_t upto, const float* x, std::size_t n, float* out);

  std::size_t classes() const { return classes_; }
  Grads zero_grads() const;

 private:
  Model& model_;
  std::vector<Grads> chunk_grads_;  // one set per chunk, kept between batches
  std::size_t classes_;
  std::size_t in_size_;
  std::size_t first_trained_;  // the lowest layer with weights
};

// Stable cross-entropy of softmax(z) against label y; writes softmax(z) into p.
double softmax_cross_entropy(const float* z, std::size_t k, std::size_t y, float* p);

}  // namespace untangle::nn
