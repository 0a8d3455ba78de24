// The network ops against finite differences and known answers.
#include <doctest/doctest.h>

#include <oneapi/tbb/global_control.h>

#include <cmath>

#include "nodes/nn/dense.h"
#include "nodes/nn/model.h"
#include "nodes/nn/ops.h"
#include "nodes/nn/optimizer.h"
#include "nodes/nn/runner.h"
#include "nodes/nn/simple_layers.h"
#include "tests/checks.h"
#include "tests/model_inputs.h"

using namespace untangle;
using namespace untangle::nn;

namespace {

std::vector<float> random_values(std::size_t n, Rng& rng, double scale = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>((2 * rng.uniform() - 1) * scale);
  return v;
}

// L = Σ w_i y_i(x) for fixed random w: its gradient dL/dy = w drives backward, and every
// analytic derivative is compared with a central difference of L.
void check_gradients(Layer& layer, const Shape& in, std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  layer.build(in);
  layer.init(rng);
  for (auto* p : layer.params())
    for (auto& v : p->value) v += static_cast<float>(0.1 * (2 * rng.uniform() - 1));  // non-zero biases too
  std::vector<float> x = random_values(n * volume(in), rng);
  const std::size_t out = n * volume(layer.out_shape);
  std::vector<float> w = random_values(out, rng);
  Scratch s;
  auto loss = [&](const std::vector<float>& xs) {
    std::vector<float> y(out);
    Scratch tmp;
    layer.forward(xs.data(), y.data(), n, tmp, Pass{});
    double l = 0;
    for (std::size_t i = 0; i < out; ++i) l += static_cast<double>(w[i]) * y[i];
    return l;
  };
  std::vector<float> y(out), dx(x.size());
  layer.forward(x.data(), y.data(), n, s, Pass{});
  std::vector<std::vector<float>> grads;
  for (auto* p : layer.params()) grads.emplace_back(p->value.size(), 0.0f);
  layer.backward(x.data(), y.data(), w.data(), dx.data(), n, grads, s);

  const float eps = 1e-2f;
  auto close = [](double analytic, double numeric) {
    return std::abs(analytic - numeric) <= 1e-2 * std::max(1.0, std::abs(numeric));
  };
  for (std::size_t i = 0; i < x.size(); i += std::max<std::size_t>(1, x.size() / 40)) {
    auto xp = x, xm = x;
    xp[i] += eps;
    xm[i] -= eps;
    const double numeric = (loss(xp) - loss(xm)) / (2 * eps);
    CHECK_MESSAGE(close(dx[i], numeric), layer.type() << " dx[" << i << "] " << dx[i] << " vs " << numeric);
  }
  auto params = layer.params();
  for (std::size_t k = 0; k < params.size(); ++k) {
    auto& v = params[k]->value;
    for (std::size_t i = 0; i < v.size(); i += std::max<std::size_t>(1, v.size() / 40)) {
      const float keep = v[i];
      v[i] = keep + eps;
      const double lp = loss(x);
      v[i] = keep - eps;
      const double lm = loss(x);
      v[i] = keep;
      const double numeric = (lp - lm) / (2 * eps);
      CHECK_MESSAGE(close(grads[k][i], numeric), layer.type() << " " << params[k]->name << "[" << i << "] " << grads[k][i]
                                                              << " vs " << numeric);
    }
  }
}

YAML::Node layers(const std::string& yaml) { return YAML::Load(yaml); }

}  // namespace

TEST_CASE("nn: dense gradients match finite differences for every activation") {
  for (Act a : {Act::linear, Act::sigmoid, Act::tanh, Act::softmax, Act::relu}) {
    Dense d(7, a, Init::glorot_uniform);
    check_gradients(d, {5}, 4, 11);
  }
}

TEST_CASE("nn: activation, flatten and inference-time dropout gradients match finite differences") {
  for (Act a : {Act::sigmoid, Act::tanh, Act::softmax}) {
    Activation act(a);
    check_gradients(act, {3, 4}, 2, 5);
  }
  Flatten f;
  check_gradients(f, {2, 3, 2}, 3, 6);
  Dropout d(0.5);
  check_gradients(d, {6}, 3, 7);
}

TEST_CASE("nn: dropout keeps about 1 - rate of the values, scaled, and routes gradients through the same mask") {
  Dropout d(0.25);
  d.build({1000});
  std::vector<float> x(1000, 1.0f), y(1000), dx(1000);
  Scratch s;
  d.forward(x.data(), y.data(), 1, s, Pass{true, 42});
  int kept = 0;
  for (float v : y) {
    CHECK((v == 0.0f || std::abs(v - 1.0f / 0.75f) < 1e-6));
    kept += v != 0;
  }
  CHECK(kept > 700);
  CHECK(kept < 800);
  std::vector<std::vector<float>> none;
  d.backward(x.data(), y.data(), x.data(), dx.data(), 1, none, s);
  CHECK(dx == y);  // dy = 1 everywhere: dx is the mask itself
}

TEST_CASE("nn: softmax cross-entropy is stable and its gradient is p - onehot") {
  const float z[3] = {1000.0f, 1001.0f, 999.0f};  // naive exp overflows
  float p[3];
  const double l = softmax_cross_entropy(z, 3, 1, p);
  // Computed independently: -log(e^1 / (e^0 + e^1 + e^-1)).
  const double expected = -std::log(std::exp(1.0) / (1 + std::exp(1.0) + std::exp(-1.0)));
  CHECK(l == doctest::Approx(expected).epsilon(1e-6));
  CHECK(p[0] + p[1] + p[2] == doctest::Approx(1.0));
  const double eps = 1e-3;
  for (int j = 0; j < 3; ++j) {
    float zp[3] = {z[0], z[1], z[2]}, zm[3] = {z[0], z[1], z[2]};
    zp[j] += static_cast<float>(eps);
    zm[j] -= static_cast<float>(eps);
    float q[3];
    const double numeric = (softmax_cross_entropy(zp, 3, 1, q) - softmax_cross_entropy(zm, 3, 1, q)) / (2 * eps);
    CHECK(p[j] - (j == 1) == doctest::Approx(numeric).epsilon(2e-2));
  }
}

TEST_CASE("nn: a whole network's gradient (through the fused softmax loss) matches finite differences") {
  Model m = Model::build(layers("[{dense: {units: 6, activation: tanh}}, {dense: {units: 4, activation: sigmoid}}, "
                                "{dense: {units: 3, activation: softmax}}]"),
                         {5});
  m.init(3);
  Runner r(m);
  Rng rng(9);
  const std::size_t n = 120;  // more than one chunk
  std::vector<float> x = random_values(n * 5, rng);
  std::vector<std::uint8_t> y(n);
  for (auto& v : y) v = static_cast<std::uint8_t>(rng.below(3));
  r.train_batch(x.data(), y.data(), n, 1);
  const Grads g = r.gradients();
  auto mean_loss = [&] { return r.evaluate(x.data(), y.data(), n).loss_sum / n; };
  const float eps = 5e-3f;
  for (std::size_t li = 0; li < m.layers.size(); ++li) {
    auto params = m.layers[li]->params();
    for (std::size_t k = 0; k < params.size(); ++k)
      for (std::size_t i = 0; i < params[k]->value.size(); i += 3) {
        float& v = params[k]->value[i];
        const float keep = v;
        v = keep + eps;
        const double lp = mean_loss();
        v = keep - eps;
        const double lm = mean_loss();
        v = keep;
        const double numeric = (lp - lm) / (2 * eps);
        CHECK(g[li][k][i] == doctest::Approx(numeric).epsilon(2e-2).scale(1e-3));
      }
  }
}

TEST_CASE("nn: the seed's models have the seed's parameter counts, and the summary shows Keras's shapes") {
  Model logreg = Model::build(layers("[flatten, {dense: {units: 10, name: fc1}}, {activation: {fn: softmax}}]"), {28, 28, 1});
  CHECK(logreg.param_count() == 7850);
  Model mlp = Model::build(layers("[flatten, {dense: {units: 100, activation: sigmoid, name: fc1}}, "
                                  "{dense: {units: 10, activation: softmax, name: fc2}}]"),
                           {28, 28, 1});
  CHECK(mlp.param_count() == 79510);
  const std::string s = mlp.summary();
  CHECK(s.find("fc1 (Dense)                  (None, 100)               78500") != std::string::npos);
  CHECK(s.find("flatten_1 (Flatten)          (None, 784)               0") != std::string::npos);
  CHECK(s.find("Total params: 79,510") != std::string::npos);
  CHECK(logreg.summary().find("activation_1 (Activation)    (None, 10)") != std::string::npos);
  Model cnn = Model::build(layers(R"([{conv2d: {filters: 32, kernel: 5, padding: same, activation: sigmoid}},
      {maxpool2d: {pool: 2}}, {conv2d: {filters: 64, kernel: 5, padding: same, activation: sigmoid}},
      {maxpool2d: {pool: 2}}, flatten, {dense: {units: 100, activation: sigmoid, name: fc1}},
      {dense: {units: 10, activation: softmax, name: fc2}}])"),
                           {28, 28, 1});
  CHECK(cnn.param_count() == 366806);
  const std::string c = cnn.summary();
  CHECK(c.find("conv2d_1 (Conv2D)            (None, 28, 28, 32)        832") != std::string::npos);
  CHECK(c.find("max_pooling2d_1 (MaxPooling2 (None, 14, 14, 32)        0") != std::string::npos);  // cut, as Keras does
  CHECK(c.find("conv2d_2 (Conv2D)            (None, 14, 14, 64)        51264") != std::string::npos);
  CHECK(c.find("flatten_1 (Flatten)          (None, 3136)              0") != std::string::npos);
  CHECK(c.find("fc1 (Dense)                  (None, 100)               313700") != std::string::npos);
}

TEST_CASE("nn: model mistakes are reported with the layer they are in") {
  auto error_of = [](const std::string& yaml) {
    try {
      Model::build(layers(yaml), {28, 28, 1});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("[{dense: {units: 10}}]") ==
        "model[0].dense: Dense takes flat inputs; add a flatten layer before it (input shape has 3 axes)");
  CHECK(error_of("[flatten, {dense: {unit: 10}}]") == "model[1].dense has no key 'unit' (keys: units, activation, init, name)");
  CHECK(error_of("[flatten, {dense: {units: 10, activation: swish}}]") ==
        "model[1].dense.activation must be one of linear, sigmoid, relu, tanh, softmax, got 'swish'");
  CHECK(error_of("[flatten, {lstm: {units: 4}}]") ==
        "model[1] must be one of dense, conv2d, maxpool2d, flatten, activation, dropout, got 'lstm'");
  CHECK(error_of("[flatten, {dense: {units: 3, name: a}}, {dense: {units: 3, name: a}}]") ==
        "model[2].dense: name 'a' is used twice");
  CHECK(error_of("[{conv2d: {filters: 2, kernel: [3, 0]}}]") == "model[0].conv2d.kernel[1] must be >= 1, got 0");
  CHECK(error_of("[flatten, {dropout: {rate: 1}}]") == "model[1].dropout.rate must be < 1, got 1");
}

namespace {

// Four well separated blobs in 2-D: any working classifier gets every point right.
void blobs(std::size_t n, std::vector<float>& x, std::vector<std::uint8_t>& y, std::uint64_t seed) {
  Rng rng(seed);
  const float cx[4] = {-3, 3, -3, 3}, cy[4] = {-3, -3, 3, 3};
  x.resize(n * 2);
  y.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = static_cast<std::uint8_t>(i % 4);
    x[2 * i] = cx[y[i]] + static_cast<float>(rng.uniform() - 0.5);
    x[2 * i + 1] = cy[y[i]] + static_cast<float>(rng.uniform() - 0.5);
  }
}

Outputs train_blobs(const std::string& optimizer, double lr, int epochs, std::uint64_t seed, std::size_t batch = 32,
                    std::map<std::string, std::vector<double>>* timings = nullptr) {
  std::vector<float> xs;
  std::vector<std::uint8_t> ys;
  blobs(400, xs, ys, 1);
  OpContext ctx;
  Tensor x = Tensor::zeros<float>({400, 2});
  std::copy(xs.begin(), xs.end(), x.data<float>());
  Tensor y = Tensor::zeros<std::uint8_t>({400});
  std::copy(ys.begin(), ys.end(), y.data<std::uint8_t>());
  ctx.inputs["x"] = {x};
  ctx.inputs["y"] = {y};
  ctx.params = YAML::Load("{model: [{dense: {units: 8, activation: relu, init: he_uniform}}, {dropout: {rate: 0.1}}, "
                          "{dense: {units: 4, activation: softmax}}], loss: categorical_crossentropy, optimizer: {" +
                          optimizer + ": {lr: " + std::to_string(lr) + "}}, batch_size: " + std::to_string(batch) + ", epochs: " +
                          std::to_string(epochs) + ", seed: " + std::to_string(seed) +
                          ", shuffle: true, validation_split: 0.25}");
  Outputs out = train_op().run(ctx);
  if (timings) *timings = ctx.timings;
  return out;
}

}  // namespace

TEST_CASE("nn: a separable problem is learned perfectly, with SGD and with Adam") {
  for (const char* opt : {"sgd", "adam"}) {
    Outputs out = train_blobs(opt, std::string(opt) == "sgd" ? 0.1 : 0.01, 30, 4);
    const Tensor& acc = out.at("history/accuracy");
    CHECK_MESSAGE(out.at("history/val_accuracy").data<double>()[29] == 1.0, opt);
    CHECK_MESSAGE(acc.data<double>()[29] > 0.97, opt);  // dropout costs a little in training
    CHECK(out.at("history/loss").data<double>()[29] < out.at("history/loss").data<double>()[0]);
  }
}

TEST_CASE("nn: the same seed gives bit-identical weights whatever the number of threads") {
  // 300 training rows in batches of 150: each batch spans three gradient chunks, whose sum is
  // the part that thread scheduling could reorder.
  constexpr std::size_t batch = 150;
  static_assert(batch > 2 * Runner::kChunk, "a batch must span several chunks");
  std::vector<Outputs> runs;
  for (int threads : {1, 2, 4}) {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    runs.push_back(train_blobs("sgd", 0.1, 3, 7, batch));
  }
  for (const char* k : {"weights/dense_1/kernel", "weights/dense_1/bias", "weights/dense_2/kernel", "history/loss"})
    for (std::size_t t = 1; t < runs.size(); ++t) CHECK_MESSAGE(runs[0].at(k).digest() == runs[t].at(k).digest(), k);
  CHECK(train_blobs("sgd", 0.1, 3, 8, batch).at("weights/dense_1/kernel").digest() !=
        runs[0].at("weights/dense_1/kernel").digest());
}

TEST_CASE("nn: training twice gives equal digests for every output, and its times are timings, not outputs") {
  std::map<std::string, std::vector<double>> timings;
  const Outputs a = train_blobs("sgd", 0.1, 3, 5, 32, &timings);
  const Outputs b = train_blobs("sgd", 0.1, 3, 5);
  REQUIRE(a.size() == b.size());
  for (const auto& entry : a) CHECK_MESSAGE(entry.second.digest() == b.at(entry.first).digest(), entry.first);
  CHECK(a.count("history/loss") == 1);
  CHECK(a.count("history/seconds") == 0);
  REQUIRE(timings.count("epoch_seconds") == 1);
  CHECK(timings.at("epoch_seconds").size() == 3);
  for (double s : timings.at("epoch_seconds")) CHECK(s >= 0);
}

TEST_CASE("nn: optimizer settings are checked key by key and bounded") {
  auto error_of = [](const std::string& yaml) {
    try {
      Optimizer::parse(YAML::Load(yaml));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("{sgd: {lr: 0.5, momentun: 0.9}}") == "optimizer.sgd has no key 'momentun' (keys: lr, momentum, nesterov)");
  CHECK(error_of("{adam: {beta1: 1}}") == "optimizer.adam.beta1 must be < 1, got 1");
  CHECK(error_of("{adam: {beta2: 1.5}}") == "optimizer.adam.beta2 must be < 1, got 1.5");
  CHECK(error_of("{adam: {epsilon: 0}}") == "optimizer.adam.epsilon must be > 0, got 0");
  CHECK(error_of("{sgd: {lr: 0}}") == "optimizer.sgd.lr must be > 0, got 0");
  CHECK(error_of("{sgd: {momentum: 1.01}}") == "optimizer.sgd.momentum must be <= 1, got 1.01");
  CHECK(error_of("rmsprop") == "optimizer must be one of sgd, adam, got 'rmsprop'");
  CHECK(error_of("{adam: {beta1: 0.99, beta2: 0.9}}") == "no error");
  CHECK(Optimizer::parse(YAML::Load("{sgd: {lr: 0.5, momentum: 0.9, nesterov: true}}"))->describe() ==
        "sgd lr 0.500000 momentum 0.900000 nesterov");
}

TEST_CASE("nn: train's nested params have one canonical form per meaning") {
  const OpSchema op = train_op();
  auto canon = [&](const char* param, const std::string& yaml) {
    std::string error;
    const YAML::Node v = canonical_param(*op.param(param), YAML::Load(yaml), error);
    REQUIRE_MESSAGE(error.empty(), error);
    YAML::Emitter e;
    e << YAML::Flow << v;
    return std::string(e.c_str());
  };
  CHECK(canon("optimizer", "{sgd: {lr: 0.5}}") == "{sgd: {lr: 0.5, momentum: 0, nesterov: false}}");
  CHECK(canon("optimizer", "{sgd: {lr: 5e-1, momentum: 0.0, nesterov: no}}") == canon("optimizer", "{sgd: {lr: 0.5}}"));
  CHECK(canon("optimizer", "adam") == "{adam: {lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-07}}");
  // The seed CNN as written, and with every default spelled out: one model.
  CHECK(canon("model", "[{conv2d: {filters: 32, kernel: 5, padding: same, activation: sigmoid}}, {maxpool2d: {pool: 2}}, flatten,"
                       " {dense: {units: 10, activation: softmax}}]") ==
        canon("model", "[{conv2d: {filters: 32, kernel: [5, 5], stride: 1, padding: same, activation: sigmoid, init: glorot_uniform,"
                       " name: conv2d_1}}, {maxpool2d: {pool: 2, stride: 2, name: max_pooling2d_1}}, {flatten: {name: flatten_1}},"
                       " {dense: {units: 10, activation: softmax, name: dense_1}}]"));
  CHECK(canon("model", "[flatten, {dense: {units: 4, name: fc1}}, {dense: {units: 2}}]") ==
        "[{flatten: {name: flatten_1}}, {dense: {units: 4, activation: linear, init: glorot_uniform, name: fc1}}, "
        "{dense: {units: 2, activation: linear, init: glorot_uniform, name: dense_1}}]");
}

TEST_CASE("nn: a diverging loss stops training with the epoch, the batch and a suggestion") {
  try {
    train_blobs("sgd", 1e6, 2, 1);
    FAIL("expected the NaN guard");
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    CHECK(m.find("epoch 1, batch ") != std::string::npos);
    CHECK(m.find("try a lower learning rate") != std::string::npos);
  }
}

TEST_CASE("nn: evaluate and activations read a trained model back and agree with a hand computation") {
  Outputs trained = train_blobs("sgd", 0.1, 5, 2);
  std::vector<float> xs;
  std::vector<std::uint8_t> ys;
  blobs(40, xs, ys, 99);
  Tensor x = Tensor::zeros<float>({40, 2});
  std::copy(xs.begin(), xs.end(), x.data<float>());
  Tensor y = Tensor::zeros<std::uint8_t>({40});
  std::copy(ys.begin(), ys.end(), y.data<std::uint8_t>());
  OpContext ctx;
  test::give_model(ctx, trained);
  ctx.inputs["x"] = {x};
  ctx.params = YAML::Load("{layer: dense_1}");
  const Tensor hidden = activations_op().run(ctx).at("values");
  REQUIRE(hidden.shape == std::vector<std::size_t>{40, 8});
  // relu(x · kernel + bias), from the saved weights.
  const float* k = trained.at("weights/dense_1/kernel").data<float>();
  const float* b = trained.at("weights/dense_1/bias").data<float>();
  for (std::size_t i = 0; i < 40; ++i)
    for (std::size_t j = 0; j < 8; ++j) {
      const float z = xs[2 * i] * k[j] + xs[2 * i + 1] * k[8 + j] + b[j];
      CHECK(hidden.data<float>()[i * 8 + j] == doctest::Approx(std::max(z, 0.0f)).epsilon(1e-5));
    }
  ctx.params = YAML::Load("{layer: dense_2}");  // the output layer: softmax probabilities
  const Tensor probs = activations_op().run(ctx).at("values");
  for (std::size_t i = 0; i < 40; ++i) {
    double sum = 0;
    for (std::size_t j = 0; j < 4; ++j) sum += probs.data<float>()[i * 4 + j];
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
  }
  ctx.params = YAML::Load("{layer: fc9}");
  CHECK(untangle::test::error_of([&] { activations_op().run(ctx); }).find("no layer 'fc9' (layers: dense_1, dropout_1, dense_2)") !=
        std::string::npos);

  ctx.inputs["y"] = {y};
  ctx.params = YAML::Node(YAML::NodeType::Map);
  Outputs ev = evaluate_op().run(ctx);
  const auto* conf = ev.at("confusion").data<std::int64_t>();
  std::int64_t total = 0, diagonal = 0;
  double loss = 0;
  for (std::size_t i = 0; i < 40; ++i) {
    const float* p = probs.data<float>() + i * 4;
    loss -= std::log(static_cast<double>(p[ys[i]]));
  }
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 4; ++c) total += conf[r * 4 + c], diagonal += r == c ? conf[r * 4 + c] : 0;
  CHECK(total == 40);
  CHECK(ev.at("accuracy").at(0) == doctest::Approx(static_cast<double>(diagonal) / 40));
  CHECK(ev.at("loss").at(0) == doctest::Approx(loss / 40).epsilon(1e-4));
  for (std::size_t c = 0; c < 4; ++c) CHECK(ev.at("per_class_accuracy").at(c) == doctest::Approx(conf[c * 4 + c] / 10.0));
}
