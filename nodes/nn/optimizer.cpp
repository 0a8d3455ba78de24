#include "nodes/nn/optimizer.h"

#include <cmath>
#include <stdexcept>

namespace untangle::nn {

namespace {

// One state buffer per param, created on the first step.
using State = std::vector<std::vector<std::vector<float>>>;

void ensure(State& s, const Grads& g) {
  if (!s.empty()) return;
  s.resize(g.size());
  for (std::size_t i = 0; i < g.size(); ++i)
    for (const auto& p : g[i]) s[i].emplace_back(p.size(), 0.0f);
}

class Sgd : public Optimizer {
 public:
  Sgd(double lr, double momentum, bool nesterov) : lr_(lr), momentum_(momentum), nesterov_(nesterov) {}
  void step(Model& model, const Grads& grads) override {
    const float lr = static_cast<float>(lr_), mu = static_cast<float>(momentum_);
    if (mu != 0) ensure(v_, grads);
    for (std::size_t i = 0; i < grads.size(); ++i) {
      auto params = model.layers[i]->params();
      for (std::size_t k = 0; k < params.size(); ++k) {
        float* w = params[k]->value.data();
        const float* g = grads[i][k].data();
        const std::size_t n = params[k]->value.size();
        if (mu == 0) {
          for (std::size_t j = 0; j < n; ++j) w[j] -= lr * g[j];
          continue;
        }
        float* v = v_[i][k].data();
        for (std::size_t j = 0; j < n; ++j) {
          v[j] = mu * v[j] - lr * g[j];
          w[j] += nesterov_ ? mu * v[j] - lr * g[j] : v[j];
        }
      }
    }
  }
  std::string describe() const override {
    return "sgd lr " + std::to_string(lr_) + (momentum_ ? " momentum " + std::to_string(momentum_) : "") +
           (nesterov_ ? " nesterov" : "");
  }

 private:
  double lr_, momentum_;
  bool nesterov_;
  State v_;
};

class Adam : public Optimizer {
 public:
  Adam(double lr, double b1, double b2, double eps) : lr_(lr), b1_(b1), b2_(b2), eps_(eps) {}
  void step(Model& model, const Grads& grads) override {
    ensure(m_, grads);
    ensure(v_, grads);
    ++t_;
    const double lr_t = lr_ * std::sqrt(1 - std::pow(b2_, t_)) / (1 - std::pow(b1_, t_));
    const float b1 = static_cast<float>(b1_), b2 = static_cast<float>(b2_), eps = static_cast<float>(eps_);
    const float lr = static_cast<float>(lr_t);
    for (std::size_t i = 0; i < grads.size(); ++i) {
      auto params = model.layers[i]->params();
      for (std::size_t k = 0; k < params.size(); ++k) {
        float* w = params[k]->value.data();
        float* m = m_[i][k].data();
        float* v = v_[i][k].data();
        const float* g = grads[i][k].data();
        for (std::size_t j = 0, n = params[k]->value.size(); j < n; ++j) {
          m[j] = b1 * m[j] + (1 - b1) * g[j];
          v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
          w[j] -= lr * m[j] / (std::sqrt(v[j]) + eps);
        }
      }
    }
  }
  std::string describe() const override { return "adam lr " + std::to_string(lr_); }

 private:
  double lr_, b1_, b2_, eps_;
  int t_ = 0;
  State m_, v_;
};

double number(const YAML::Node& args, const char* key, double fallback, double lo, double hi) {
  if (!args[key]) return fallback;
  const double v = args[key].as<double>();
  if (!(v >= lo && v <= hi))
    throw std::invalid_argument(std::string(key) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

}  // namespace

std::unique_ptr<Optimizer> Optimizer::parse(const YAML::Node& spec) {
  std::string name;
  YAML::Node args(YAML::NodeType::Map);
  if (spec.IsScalar()) {
    name = spec.Scalar();
  } else if (spec.IsMap() && spec.size() == 1) {
    name = spec.begin()->first.as<std::string>();
    if (!spec.begin()->second.IsNull()) args = spec.begin()->second;
  } else {
    throw std::invalid_argument("optimizer must be sgd, adam, or {sgd: {lr: ...}} / {adam: {lr: ...}}");
  }
  try {
    if (name == "sgd")
      return std::make_unique<Sgd>(number(args, "lr", 0.01, 0, 1e6), number(args, "momentum", 0, 0, 1),
                                   args["nesterov"] && args["nesterov"].as<bool>());
    if (name == "adam")
      return std::make_unique<Adam>(number(args, "lr", 0.001, 0, 1e6), number(args, "beta1", 0.9, 0, 1),
                                    number(args, "beta2", 0.999, 0, 1), number(args, "epsilon", 1e-7, 0, 1));
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument("optimizer " + name + ": " + e.msg);
  }
  throw std::invalid_argument("unknown optimizer '" + name + "' (sgd or adam)");
}

}  // namespace untangle::nn
