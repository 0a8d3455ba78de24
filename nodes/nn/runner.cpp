#include "nodes/nn/runner.h"

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "nodes/nn/dense.h"
#include "nodes/nn/simple_layers.h"
#include "nodes/numeric/elementary.h"

namespace untangle::nn {

namespace {

// Everything one chunk needs on its way forward and back; reused between chunks.
struct Workspace {
  std::vector<std::vector<float>> acts;  // acts[i]: output of layer i
  std::vector<Scratch> scratch;
  std::vector<float> dy, dx, probs;
};

void ensure(Workspace& w, const Model& m, std::size_t n) {
  w.acts.resize(m.layers.size());
  w.scratch.resize(m.layers.size());
  for (std::size_t i = 0; i < m.layers.size(); ++i) w.acts[i].resize(n * volume(m.layers[i]->out_shape));
}

void forward(const Model& m, Workspace& w, const float* x, std::size_t n, std::size_t upto, const Pass& p) {
  ensure(w, m, n);
  const float* in = x;
  for (std::size_t i = 0; i <= upto; ++i) {
    Pass lp = p;
    lp.seed = p.seed * 1000003u + i;  // each layer its own dropout stream
    m.layers[i]->forward(in, w.acts[i].data(), n, w.scratch[i], lp);
    in = w.acts[i].data();
  }
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Rng r(a ^ (b * 0x9e3779b97f4a7c15ull));
  return r.next();
}

}  // namespace

double softmax_cross_entropy(const float* z, std::size_t k, std::size_t y, float* p) {
  const float m = *std::max_element(z, z + k);
  double sum = 0;
  for (std::size_t j = 0; j < k; ++j) sum += num::exp(static_cast<double>(z[j]) - m);
  const double log_sum = num::log(sum) + m;
  for (std::size_t j = 0; j < k; ++j) p[j] = static_cast<float>(num::exp(z[j] - log_sum));
  return log_sum - z[y];
}

Runner::Runner(Model& model) : model_(model) {
  Layer& last = *model.layers.back();
  bool softmax = false;
  if (auto* d = dynamic_cast<Dense*>(&last); d && d->activation() == Act::softmax) d->set_activation(Act::linear), softmax = true;
  if (auto* a = dynamic_cast<Activation*>(&last); a && a->activation() == Act::softmax) a->set_activation(Act::linear), softmax = true;
  if (!softmax)
    throw std::invalid_argument("categorical cross-entropy needs a softmax output: end the model with a softmax dense layer");
  if (last.out_shape.size() != 1) throw std::invalid_argument("the model's output must be flat (one score per class)");
  classes_ = last.out_shape[0];
  in_size_ = volume(model.input);
  first_trained_ = 0;
  while (first_trained_ + 1 < model.layers.size() && model.layers[first_trained_]->params().empty()) ++first_trained_;
}

Grads Runner::zero_grads() const {
  Grads g(model_.layers.size());
  for (std::size_t i = 0; i < g.size(); ++i)
    for (auto* p : model_.layers[i]->params()) g[i].emplace_back(p->value.size(), 0.0f);
  return g;
}

BatchStats Runner::train_batch(const float* x, const std::uint8_t* y, std::size_t n, std::uint64_t seed) {
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  const std::size_t L = model_.layers.size();
  static thread_local Workspace ws_tls;  // scratch only: nothing in it outlives a chunk
  while (chunk_grads_.size() < chunks) chunk_grads_.push_back(zero_grads());
  std::vector<BatchStats> stats(chunks);
  tbb::parallel_for(std::size_t(0), chunks, [&](std::size_t c) {
    Workspace& w = ws_tls;
    const std::size_t lo = c * kChunk, m = std::min(kChunk, n - lo);
    Pass p{true, mix(seed, c)};
    forward(model_, w, x + lo * in_size_, m, L - 1, p);
    // Loss and dL/dlogits for the mean over the whole batch.
    const float* z = w.acts[L - 1].data();
    w.dy.resize(m * classes_);
    for (std::size_t r = 0; r < m; ++r) {
      float* d = w.dy.data() + r * classes_;
      stats[c].loss_sum += softmax_cross_entropy(z + r * classes_, classes_, y[lo + r], d);
      stats[c].correct += static_cast<std::size_t>(std::max_element(d, d + classes_) - d) == y[lo + r];
      d[y[lo + r]] -= 1.0f;
      for (std::size_t j = 0; j < classes_; ++j) d[j] /= static_cast<float>(n);
    }
    Grads& g = chunk_grads_[c];
    for (auto& layer : g)
      for (auto& p : layer) std::fill(p.begin(), p.end(), 0.0f);
    // Backward stops at the lowest layer with weights: nothing below it needs a gradient.
    for (std::size_t i = L; i-- > first_trained_;) {
      const float* in = i ? w.acts[i - 1].data() : x + lo * in_size_;
      const bool need_dx = i > first_trained_;
      if (need_dx) w.dx.resize(m * volume(model_.layers[i]->in_shape));
      model_.layers[i]->backward(in, w.acts[i].data(), w.dy.data(), need_dx ? w.dx.data() : nullptr, m, g[i], w.scratch[i]);
      std::swap(w.dy, w.dx);
    }
  });
  BatchStats total;
  for (const auto& s : stats) total.loss_sum += s.loss_sum, total.correct += s.correct;
  // Each element is summed over the chunks in chunk order, so the result does not depend on
  // how the elements are shared out among threads.
  std::vector<std::pair<float*, std::size_t>> blocks;  // (start in chunk 0's buffers, length)
  std::vector<std::pair<std::size_t, std::size_t>> where;  // (layer, param) of each block
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t k = 0; k < chunk_grads_[0][i].size(); ++k)
      for (std::size_t j = 0, e = chunk_grads_[0][i][k].size(); j < e; j += 4096) {
        blocks.push_back({chunk_grads_[0][i][k].data() + j, std::min<std::size_t>(4096, e - j)});
        where.push_back({i, k});
      }
  tbb::parallel_for(std::size_t(0), blocks.size(), [&](std::size_t b) {
    float* dst = blocks[b].first;
    const auto [i, k] = where[b];
    const std::size_t offset = static_cast<std::size_t>(dst - chunk_grads_[0][i][k].data());
    for (std::size_t c = 1; c < chunks; ++c) {
      const float* src = chunk_grads_[c][i][k].data() + offset;
      for (std::size_t j = 0; j < blocks[b].second; ++j) dst[j] += src[j];
    }
  });
  return total;
}

BatchStats Runner::evaluate(const float* x, const std::uint8_t* y, std::size_t n, std::vector<float>* probs) {
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  const std::size_t L = model_.layers.size();
  std::vector<BatchStats> stats(chunks);
  if (probs) probs->resize(n * classes_);
  tbb::parallel_for(std::size_t(0), chunks, [&](std::size_t c) {
    static thread_local Workspace w;
    const std::size_t lo = c * kChunk, m = std::min(kChunk, n - lo);
    forward(model_, w, x + lo * in_size_, m, L - 1, Pass{});
    w.probs.resize(classes_);
    for (std::size_t r = 0; r < m; ++r) {
      float* p = probs ? probs->data() + (lo + r) * classes_ : w.probs.data();
      stats[c].loss_sum += softmax_cross_entropy(w.acts[L - 1].data() + r * classes_, classes_, y[lo + r], p);
      stats[c].correct += static_cast<std::size_t>(std::max_element(p, p + classes_) - p) == y[lo + r];
    }
  });
  BatchStats total;
  for (const auto& s : stats) total.loss_sum += s.loss_sum, total.correct += s.correct;
  return total;
}

void Runner::forward_to(std::size_t upto, const float* x, std::size_t n, float* out) {
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  const std::size_t width = volume(model_.layers[upto]->out_shape);
  const bool final_softmax = upto + 1 == model_.layers.size();
  tbb::parallel_for(std::size_t(0), chunks, [&](std::size_t c) {
    static thread_local Workspace w;
    const std::size_t lo = c * kChunk, m = std::min(kChunk, n - lo);
    forward(model_, w, x + lo * in_size_, m, upto, Pass{});
    std::copy(w.acts[upto].begin(), w.acts[upto].begin() + m * width, out + lo * width);
    if (final_softmax) activate(Act::softmax, out + lo * width, m, width);  // the logits' softmax, as trained
  });
}

}  // namespace untangle::nn
