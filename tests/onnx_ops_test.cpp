#include <doctest/doctest.h>

// The interpreter beyond what ONNX's backend cases cover: a whole small network against a plain
// computation in double, the same bits whatever the thread count and the batch, the semantics of
// old opsets (Softmax's matrix, broadcasting from an axis), integer arithmetic, Erf against
// glibc's, what a caller may ask for (any intermediate value; only what it needs runs) and each
// refusal of what it feeds.
#include <tbb/global_control.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "nodes/onnx/erf.h"
#include "nodes/onnx/model.h"
#include "nodes/onnx/run.h"
#include "tests/checks.h"
#include "tests/onnx_models.h"

using namespace untangle;
using namespace untangle::test;
namespace ox = untangle::onnx;

namespace {

Tensor floats(std::vector<std::size_t> shape, const std::vector<float>& values) {
  Tensor t = Tensor::zeros<float>(std::move(shape));
  REQUIRE(t.size() == values.size());
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

template <class T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.size());
}

// A deterministic spread of values in [-1, 1).
std::vector<float> spread(std::size_t n, unsigned seed) {
  std::vector<float> v(n);
  std::uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / 8388608.0f - 1.0f;
  }
  return v;
}

ox::Model parse(const OnnxModel& m) { return ox::parse_model(m.bytes(), "m.onnx"); }

}  // namespace

TEST_CASE("onnx run: a small network gives what a plain computation in double gives") {
  const OnnxModel proto = small_cnn();
  const ox::Model m = parse(proto);
  const std::vector<float> image = spread(2 * 16, 1);
  const auto out = ox::run(m, {{"image", floats({2, 1, 4, 4}, image)}});
  const Tensor& probs = out.at("probs");
  REQUIRE(probs.shape == std::vector<std::size_t>{2, 3});

  const auto& w = m.initializers.at("conv1.weight");
  const auto& b = m.initializers.at("conv1.bias");
  const auto& fc = m.initializers.at("fc/weight");
  const auto& fb = m.initializers.at("fc%bias");
  for (std::size_t n = 0; n < 2; ++n) {
    std::vector<double> flat;  // Conv (same padding) → Relu → Flatten, channel by channel
    for (std::size_t f = 0; f < 2; ++f)
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
          double s = b.data<float>()[f];
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) {
              const int yy = y + i - 1, xx = x + j - 1;
              if (yy >= 0 && yy < 4 && xx >= 0 && xx < 4) s += double(w.data<float>()[f * 9 + i * 3 + j]) * image[n * 16 + yy * 4 + xx];
            }
          flat.push_back(s > 0 ? s : 0);
        }
    std::vector<double> logits(3);
    double total = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      logits[k] = fb.data<float>()[k];
      for (std::size_t i = 0; i < 32; ++i) logits[k] += double(fc.data<float>()[k * 32 + i]) * flat[i];
      total += std::exp(logits[k]);
    }
    for (std::size_t k = 0; k < 3; ++k) CHECK(probs.data<float>()[n * 3 + k] == doctest::Approx(std::exp(logits[k]) / total).epsilon(1e-6));
  }
}

TEST_CASE("onnx run: the same bits on one thread or many, and for an image alone or in a batch") {
  // Big enough that num::parallel_gemm splits the product (more than 4 M fmas, more than 96 rows
  // by 256 columns of output): 128 filters over 32 × 32 positions of 3 × 3 × 16 windows.
  OnnxModel m;
  m.input("x", {-1, 16, 32, 32}).output("y", {-1, 10});
  m.init("w", {128, 16, 3, 3}, spread(128 * 16 * 9, 2));
  m.init("b", {128}, spread(128, 3));
  m.init("fc", {128 * 32 * 32, 10}, spread(128 * 32 * 32 * 10, 4));
  auto& conv = m.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  set_ints(conv, "pads", {1, 1, 1, 1});
  m.node("Tanh", {"c"}, {"t"});
  m.node("Flatten", {"t"}, {"f"});
  m.node("MatMul", {"f", "fc"}, {"y"});
  const ox::Model model = parse(m);
  const std::vector<float> x = spread(3 * 16 * 32 * 32, 5);
  const Tensor batch = floats({3, 16, 32, 32}, x);
  const Tensor many = ox::run(model, {{"x", batch}}).at("y");
  Tensor one_thread;
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    one_thread = ox::run(model, {{"x", batch}}).at("y");
  }
  CHECK(many.digest() == one_thread.digest());
  // The last image alone: its convolution on parallel_gemm, in the batch on one gemm per image.
  const Tensor alone = ox::run(model, {{"x", floats({1, 16, 32, 32}, std::vector<float>(x.end() - 16 * 32 * 32, x.end()))}}).at("y");
  CHECK(std::memcmp(alone.data<float>(), many.data<float>() + 20, 10 * sizeof(float)) == 0);
}

TEST_CASE("onnx run: Softmax before opset 13 normalises the matrix of the axes from `axis` on") {
  for (const std::int64_t opset : {11, 13}) {
    CAPTURE(opset);
    OnnxModel m(opset);
    m.input("x", {2, 3, 4}).output("y", {2, 3, 4});
    set_int(m.node("Softmax", {"x"}, {"y"}), "axis", 1);
    const std::vector<float> x = spread(24, 6);
    const Tensor y = ox::run(parse(m), {{"x", floats({2, 3, 4}, x)}}).at("y");
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t j = 0; j < 3; ++j)
        for (std::size_t k = 0; k < 4; ++k) {
          // opset 11: over all 12 values of sample n; opset 13: over the 3 values along axis 1.
          double sum = 0;
          for (std::size_t jj = 0; jj < 3; ++jj)
            for (std::size_t kk = 0; kk < 4; ++kk)
              if (opset == 11 || kk == k) sum += std::exp(double(x[n * 12 + jj * 4 + kk]));
          CHECK(y.data<float>()[n * 12 + j * 4 + k] == doctest::Approx(std::exp(double(x[n * 12 + j * 4 + k])) / sum).epsilon(1e-6));
        }
  }
}

TEST_CASE("onnx run: before opset 7, Add broadcasts B from `axis`, and only with broadcast=1") {
  OnnxModel m(6, 3);
  m.input("a", {2, 3, 4}).input("b", {3}).output("y", {2, 3, 4});
  auto& add = m.node("Add", {"a", "b"}, {"y"});
  set_int(add, "broadcast", 1);
  set_int(add, "axis", 1);
  const std::vector<float> a = spread(24, 7);
  const Tensor y = ox::run(parse(m), {{"a", floats({2, 3, 4}, a)}, {"b", floats({3}, {10, 20, 30})}}).at("y");
  for (std::size_t i = 0; i < 24; ++i) CHECK(y.data<float>()[i] == a[i] + float(10 * (1 + (i / 4) % 3)));

  OnnxModel strict(6, 3);
  strict.input("a", {2, 3}).input("b", {3}).output("y", {2, 3});
  strict.node("Add", {"a", "b"}, {"y"}, "add");
  CHECK_THROWS_WITH(ox::run(parse(strict), {{"a", floats({2, 3}, spread(6, 8))}, {"b", floats({3}, {1, 2, 3})}}),
                    "m.onnx: node 'add' (Add): shapes [2, 3] and [3] differ, and broadcast is 0");
}

TEST_CASE("onnx run: integers wrap as NumPy's do, divide towards zero, and never by zero") {
  OnnxModel m;
  m.input("a", {4}, ::onnx::TensorProto::INT64).input("b", {4}, ::onnx::TensorProto::INT64);
  m.output("s", {4}, ::onnx::TensorProto::INT64).output("q", {4}, ::onnx::TensorProto::INT64);
  m.node("Add", {"a", "b"}, {"s"});
  m.node("Div", {"a", "b"}, {"q"}, "div");
  const auto ints = [](std::vector<std::int64_t> v) {
    Tensor t = Tensor::zeros<std::int64_t>({v.size()});
    std::copy(v.begin(), v.end(), t.data<std::int64_t>());
    return t;
  };
  const std::int64_t max = std::numeric_limits<std::int64_t>::max(), min = std::numeric_limits<std::int64_t>::min();
  const auto out = ox::run(parse(m), {{"a", ints({7, -7, max, min})}, {"b", ints({2, 2, 1, -1})}});
  CHECK(values<std::int64_t>(out.at("s")) == std::vector<std::int64_t>{9, -5, min, max});
  CHECK(values<std::int64_t>(out.at("q")) == std::vector<std::int64_t>{3, -3, max, min});
  CHECK_THROWS_WITH(ox::run(parse(m), {{"a", ints({1, 2, 3, 4})}, {"b", ints({1, 0, 1, 1})}}),
                    "m.onnx: node 'div' (Div): integer division by zero");
}

TEST_CASE("onnx erf: within 1e-14 of glibc's, relatively, and rounded to float32 alike") {
  std::size_t float_differs = 0, n = 0;
  double worst = 0;
  for (double x = -7; x <= 7; x += 0.000123) {
    const double got = ox::erf(x), want = std::erf(x);
    if (want != 0) worst = std::max(worst, std::fabs(got - want) / std::fabs(want));
    float_differs += static_cast<float>(got) != static_cast<float>(want);
    ++n;
  }
  CHECK(worst < 1e-14);
  // Values this close round to one float32 but where they straddle a rounding boundary.
  CHECK(float_differs * 10000 < n);
  CHECK(ox::erf(0.0) == 0.0);
  CHECK(std::signbit(ox::erf(-0.0)));
  CHECK(ox::erf(1e-300) == doctest::Approx(1.1283791670955126e-300));
  CHECK(ox::erf(-30) == -1.0);
  CHECK(std::isnan(ox::erf(std::nan(""))));
}

TEST_CASE("onnx run: any value of the graph by name, computing only what it needs") {
  OnnxModel m = small_cnn();
  // A node past the wanted value that would fail when run: it is not run.
  m.graph().mutable_output(0)->set_name("bad");
  set_int(m.node("Gemm", {"probs", "fc/weight"}, {"bad"}, "bad_gemm"), "transB", 1);
  const ox::Model model = parse(m);
  const Tensor image = floats({1, 1, 4, 4}, spread(16, 9));
  const auto out = ox::run(model, {{"image", image}}, {"r1", "logits", "conv1.bias", "image"});
  CHECK(out.size() == 4);
  CHECK(out.at("r1").shape == std::vector<std::size_t>{1, 2, 4, 4});
  for (float v : values<float>(out.at("r1"))) CHECK(v >= 0);
  CHECK(out.at("logits").shape == std::vector<std::size_t>{1, 3});
  CHECK(values<float>(out.at("conv1.bias")) == std::vector<float>{0.5f, -0.5f});
  CHECK(out.at("image").digest() == image.digest());
  CHECK_THROWS_WITH(ox::run(model, {{"image", image}}), "m.onnx: node 'bad_gemm' (Gemm): A [1, 3] and B [3, 32] do not multiply (transA 0, transB 1)");
  CHECK_THROWS_WITH(ox::run(model, {{"image", image}}, {"nothing"}), "m.onnx: 'nothing' is no value of the model");
}

TEST_CASE("onnx run: every graph input given, of its type and of the dimensions the model fixes") {
  const ox::Model m = parse(small_cnn());
  CHECK_THROWS_WITH(ox::run(m, {}), "m.onnx: no value is given for the graph input 'image'");
  CHECK_THROWS_WITH(ox::run(m, {{"image", floats({1, 1, 4, 5}, spread(20, 1))}}),
                    "m.onnx: graph input 'image' is given float32 [1, 1, 4, 5]; the model takes float32 [N, 1, 4, 4]");
  CHECK_THROWS_WITH(ox::run(m, {{"image", Tensor::zeros<double>({1, 1, 4, 4})}}),
                    "m.onnx: graph input 'image' is given float64 [1, 1, 4, 4]; the model takes float32 [N, 1, 4, 4]");
  CHECK_THROWS_WITH(ox::run(m, {{"image", floats({1, 1, 4, 4}, spread(16, 1))}, {"label", Tensor::zeros<float>({1})}}),
                    "m.onnx: 'label' is no input of the model; its inputs are image");
  // The symbolic batch takes any size, none included.
  CHECK(ox::run(m, {{"image", Tensor::zeros<float>({0, 1, 4, 4})}}).at("probs").shape == std::vector<std::size_t>{0, 3});
}

TEST_CASE("onnx run: nothing runs when any node cannot") {
  OnnxModel m;
  m.input("x", {2}).output("y", {2});
  m.node("Relu", {"x"}, {"r"});
  m.node("Neg", {"r"}, {"y"}, "negate");
  std::string ops;
  for (const auto& op : ox::supported_ops()) ops += (ops.empty() ? "" : ", ") + op;
  const ox::Model model = parse(m);
  CHECK(error_of([&] { ox::run(model, {{"x", floats({2}, {1, -1})}}, {"r"}); }) ==
        "m.onnx: untangle cannot run this model:\n  node 'negate' (Neg): an op untangle does not run\nIt runs the ops " +
            ops + " (float32 data; integers where ONNX computes shapes).");
}
