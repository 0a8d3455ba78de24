#include <doctest/doctest.h>

// run_onnx on models of ONNX's backend cases as load_onnx gives them (the model's bytes and its
// weights group): the case's expected outputs, any intermediate value, weights that replace the
// model's own, and each mismatch between the weights and the model.
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "nodes/onnx/model.h"
#include "nodes/onnx/ops.h"
#include "nodes/onnx/run_onnx.h"
#include "tests/checks.h"
#include "tests/helpers.h"

using namespace untangle;
using namespace untangle::test;
namespace ox = untangle::onnx;

namespace {

const std::string kCases = std::string(ONNX_TESTDATA) + "/pytorch-converted/";

struct Loaded {
  Tensor model;
  std::vector<Tensor> weights;
  std::vector<std::string> names;
};

Loaded load(const std::string& file) {
  OpContext ctx;
  ctx.params["file"] = file;
  Outputs out = load_onnx_op().run(ctx);
  Loaded l;
  l.model = out.at("model");
  for (auto& [name, t] : out)
    if (name.rfind("weights/", 0) == 0) {
      l.names.push_back(name.substr(8));
      l.weights.push_back(t);
    }
  return l;
}

Tensor tensor_file(const std::string& path) { return ox::parse_tensor(read_file(path), path); }

bool close(const Tensor& got, const Tensor& want) {
  if (got.shape != want.shape || got.dtype != want.dtype) return false;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got.at(i) - want.at(i)) <= 1e-7 + 1e-3 * std::fabs(want.at(i)))) return false;
  return true;
}

}  // namespace

TEST_CASE("run_onnx: a convolution's expected output from load_onnx's model and weights, and other weights' own") {
  const std::string dir = kCases + "test_Conv2d/";
  const Loaded l = load(dir + "model.onnx");
  REQUIRE(l.names == std::vector<std::string>{"1", "2"});  // the filters and the biases
  const Tensor x = tensor_file(dir + "test_data_set_0/input_0.pb");
  const auto out = ox::run_onnx(l.model, l.weights, l.names, {{"0", x}});
  CHECK(close(out.at("3"), tensor_file(dir + "test_data_set_0/output_0.pb")));

  // A convolution is linear in its filters and biases together, and doubling is exact: twice the
  // weights give exactly twice the output, so the weights given are the ones that ran.
  std::vector<Tensor> doubled = l.weights;
  for (Tensor& t : doubled)
    for (std::size_t i = 0; i < t.size(); ++i) t.data<float>()[i] *= 2;
  const Tensor twice = ox::run_onnx(l.model, doubled, l.names, {{"0", x}}).at("3");
  REQUIRE(twice.size() == out.at("3").size());
  for (std::size_t i = 0; i < twice.size(); ++i) CHECK(twice.data<float>()[i] == 2 * out.at("3").data<float>()[i]);
}

TEST_CASE("run_onnx: intermediate values by name, on PyTorch's PixelShuffle") {
  const std::string dir = kCases + "test_PixelShuffle/";
  const Loaded l = load(dir + "model.onnx");
  CHECK(l.weights.empty());
  const Tensor x = tensor_file(dir + "test_data_set_0/input_0.pb");  // [1, 9, 4, 4]
  const auto out = ox::run_onnx(l.model, {}, {}, {{"0", x}}, {"2", "3", "5"});
  // '2' is the input reshaped: its elements as they were.
  CHECK(out.at("2").shape == std::vector<std::size_t>{1, 1, 3, 3, 4, 4});
  CHECK(out.at("2").bytes == x.bytes);
  CHECK(out.at("3").shape == std::vector<std::size_t>{1, 1, 4, 3, 4, 3});
  // '5' is the pixel shuffle with factor 3: out[h·3 + i][w·3 + j] = in[i·3 + j][h][w].
  const Tensor& y = out.at("5");
  REQUIRE(y.shape == std::vector<std::size_t>{1, 1, 12, 12});
  for (std::size_t h = 0; h < 4; ++h)
    for (std::size_t w = 0; w < 4; ++w)
      for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 3; ++j)
          CHECK(y.data<float>()[(h * 3 + i) * 12 + w * 3 + j] == x.data<float>()[(i * 3 + j) * 16 + h * 4 + w]);
  CHECK(close(y, tensor_file(dir + "test_data_set_0/output_0.pb")));
}

TEST_CASE("run_onnx: weights that are not the model's initializers, one for one, are refused") {
  const std::string dir = kCases + "test_Conv2d/";
  const Loaded l = load(dir + "model.onnx");
  const std::map<std::string, Tensor> in{{"0", tensor_file(dir + "test_data_set_0/input_0.pb")}};
  CHECK(error_of([&] { ox::run_onnx(l.model, {l.weights[0]}, {l.names[0]}, in); }) ==
        "the weights have no '2', an initializer of the model");
  CHECK(error_of([&] { ox::run_onnx(l.model, {l.weights[1], l.weights[1]}, {"1", "2"}, in); }) ==
        "weight '1' is float32 [4]; the model's initializer is float32 [4, 3, 3, 2]");
  std::vector<Tensor> more = l.weights;
  std::vector<std::string> names = l.names;
  more.push_back(l.weights[1]);
  names.push_back("conv.bias");
  CHECK(error_of([&] { ox::run_onnx(l.model, more, names, in); }) == "weight 'conv.bias' is no initializer of the model");
  names.back() = "2";
  CHECK(error_of([&] { ox::run_onnx(l.model, more, names, in); }) == "weight '2' is given twice");
  CHECK(error_of([&] { ox::run_onnx(Tensor::zeros<float>({4}), l.weights, l.names, in); }) ==
        "the model is float32 [4], not an ONNX file's bytes (uint8 [bytes])");
}
