#include "nodes/nn/optimizer.h"

#include <cmath>
#include <stdexcept>

#include "nodes/numeric/elementary.h"

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
    const double lr_t = lr_ * std::sqrt(1 - num::pow(b2_, t_)) / (1 - num::pow(b1_, t_));
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

}  // namespace

ParamSpec Optimizer::schema() {
  auto number = [](const char* name, const char* doc, const char* dflt, double lo, double hi, bool lo_open, bool hi_open) {
    ParamSpec p{name, ParamType::number, doc, dflt};
    p.min = lo, p.max = hi, p.min_open = lo_open, p.max_open = hi_open;
    return p;
  };
  ParamSpec sgd{"sgd", ParamType::record, "stochastic gradient descent, as Keras's SGD", std::nullopt};
  sgd.fields = {number("lr", "learning rate", "0.01", 0, 1e6, true, false),
                number("momentum", "velocity kept from the previous step", "0", 0, 1, false, false),
                {"nesterov", ParamType::boolean, "Nesterov momentum", "false"}};
  // Adam divides by 1 - beta^t, so a beta of 1 is out, and so is a zero epsilon.
  ParamSpec adam{"adam", ParamType::record, "Adam, as Keras's", std::nullopt};
  adam.fields = {number("lr", "learning rate", "0.001", 0, 1e6, true, false),
                 number("beta1", "decay of the first moment", "0.9", 0, 1, false, true),
                 number("beta2", "decay of the second moment", "0.999", 0, 1, false, true),
                 number("epsilon", "added to the root of the second moment", "1e-07", 0, 1, true, false)};
  ParamSpec opt{"optimizer", ParamType::variant, "the update rule: sgd or adam, e.g. {sgd: {lr: 0.5, momentum: 0.9}}",
                "{sgd: {lr: 0.01}}"};
  opt.fields = {sgd, adam};
  return opt;
}

std::unique_ptr<Optimizer> Optimizer::parse(const YAML::Node& given) {
  std::string error;
  const YAML::Node spec = canonical_param(schema(), given, error);
  if (!error.empty()) throw std::invalid_argument(error);
  const std::string name = spec.begin()->first.as<std::string>();
  const YAML::Node a = spec.begin()->second;
  if (name == "sgd")
    return std::make_unique<Sgd>(a["lr"].as<double>(), a["momentum"].as<double>(), a["nesterov"].as<bool>());
  return std::make_unique<Adam>(a["lr"].as<double>(), a["beta1"].as<double>(), a["beta2"].as<double>(),
                                a["epsilon"].as<double>());
}

}  // namespace untangle::nn
