#include <doctest/doctest.h>

// evaluate and activations on a network from load_onnx, through the ops as registered: x in
// untangle's NHWC layout transposed to the model's NCHW (and said so), any value by name, and
// the loss, accuracy and probabilities against a forward pass written out here in double.
#include <cmath>
#include <string>
#include <vector>

#include "nodes/register.h"
#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/model_inputs.h"
#include "tests/onnx_models.h"

using namespace untangle;
using namespace untangle::test;

namespace {

// small_cnn's weights (onnx_models.h), as it makes them.
float conv_w(std::size_t i) { return 0.1f * static_cast<float>(static_cast<int>(i % 7) - 3); }
float fc_w(std::size_t i) { return 0.05f * static_cast<float>(static_cast<int>(i % 5) - 2); }

// small_cnn on one NHWC image [4, 4, 1]: the Conv+Relu values in NCHW order and the logits.
void forward(const float* img, std::vector<double>& relu, std::vector<double>& logits) {
  const float bias[2] = {0.5f, -0.5f}, fc_b[3] = {0.1f, -0.2f, 0.3f};
  relu.assign(32, 0);
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) {
        double s = bias[c];
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) {
            const int yy = y + i - 1, xx = x + j - 1;
            if (yy >= 0 && yy < 4 && xx >= 0 && xx < 4) s += double(conv_w(c * 9 + i * 3 + j)) * img[yy * 4 + xx];
          }
        relu[(c * 4 + y) * 4 + x] = std::max(0.0, s);
      }
  logits.assign(3, 0);
  for (int k = 0; k < 3; ++k) {
    double s = fc_b[k];
    for (int i = 0; i < 32; ++i) s += double(fc_w(k * 32 + i)) * relu[i];
    logits[k] = s;
  }
}

struct Study {
  Registry ops;
  Outputs loaded;
  TempDir dir;
  Study() {
    register_all_ops(ops);
    write_file(dir / "cnn.onnx", small_cnn().bytes());
    OpContext ctx;
    ctx.params["file"] = dir / "cnn.onnx";
    loaded = ops.find("load_onnx")->run(ctx);
  }
  OpContext context(const Tensor& x, std::vector<std::string>* log) {
    OpContext ctx;
    give_model(ctx, loaded);
    ctx.inputs["x"] = {x};
    ctx.log = [log](const std::string& line) { log->push_back(line); };
    return ctx;
  }
};

// 130 NHWC images [4, 4, 1] (more than one chunk of 64), values in [-1, 1].
Tensor images() {
  Tensor x = Tensor::zeros<float>({130, 4, 4, 1});
  for (std::size_t i = 0; i < x.size(); ++i) x.data<float>()[i] = static_cast<float>(int((i * 37) % 41) - 20) / 20.0f;
  return x;
}

bool near(double got, double want) { return std::fabs(got - want) <= 1e-5 * std::max(1.0, std::fabs(want)); }

}  // namespace

TEST_CASE("onnx study: activations of any value, x transposed from NHWC to the model's NCHW and said so") {
  Study s;
  const Tensor x = images();
  std::vector<std::string> log;
  OpContext ctx = s.context(x, &log);
  ctx.params["layer"] = "r1";
  const Tensor r1 = s.ops.find("activations")->run(ctx).at("values");
  REQUIRE(r1.shape == std::vector<std::size_t>{130, 2, 4, 4});
  REQUIRE(log.size() == 1);
  CHECK(log[0] == "x is NHWC [130, 4, 4, 1]; the network's input 'image' is NCHW [N, 1, 4, 4]: x transposed to "
                  "[130, 1, 4, 4]");
  std::vector<double> relu, logits;
  for (std::size_t n = 0; n < 130; ++n) {
    forward(x.data<float>() + n * 16, relu, logits);
    for (std::size_t i = 0; i < 32; ++i) {
      INFO(n << " " << i);
      CHECK(near(r1.data<float>()[n * 32 + i], relu[i]));
    }
  }
  // An image already in NCHW goes in as it is, with nothing to say, and gives the same bits.
  Tensor nchw = Tensor::zeros<float>({130, 1, 4, 4});
  nchw.bytes = x.bytes;  // one channel: the same bytes
  log.clear();
  OpContext as_is = s.context(nchw, &log);
  as_is.params["layer"] = "r1";
  CHECK(s.ops.find("activations")->run(as_is).at("values").digest() == r1.digest());
  CHECK(log.empty());
  // A shape the input takes in no layout is an error naming both.
  OpContext wrong = s.context(Tensor::zeros<float>({2, 5, 4, 1}), &log);
  wrong.params["layer"] = "r1";
  CHECK(error_of([&] { s.ops.find("activations")->run(wrong); }) ==
        "x samples are [5, 4, 1]; the network's input 'image' is [N, 1, 4, 4] (the first dimension the samples)");
}

TEST_CASE("onnx study: evaluate takes a Softmax's output as probabilities: loss, accuracy, confusion as computed here") {
  Study s;
  const Tensor x = images();
  Tensor y = Tensor::zeros<std::uint8_t>({130});
  for (std::size_t n = 0; n < 130; ++n) y.data<std::uint8_t>()[n] = static_cast<std::uint8_t>(n % 3);
  std::vector<std::string> log;
  OpContext ctx = s.context(x, &log);
  ctx.inputs["y"] = {y};
  const Outputs out = s.ops.find("evaluate")->run(ctx);
  CHECK(log.back() == "output 'probs' taken as probabilities (a Softmax's)");
  std::vector<double> relu, logits;
  double loss = 0;
  std::size_t correct = 0;
  for (std::size_t n = 0; n < 130; ++n) {
    forward(x.data<float>() + n * 16, relu, logits);
    const double m = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (double z : logits) sum += std::exp(z - m);
    for (int k = 0; k < 3; ++k) CHECK(near(out.at("probabilities").data<float>()[n * 3 + k], std::exp(logits[k] - m) / sum));
    loss += std::log(sum) + m - logits[y.data<std::uint8_t>()[n]];
    correct += std::max_element(logits.begin(), logits.end()) - logits.begin() == y.data<std::uint8_t>()[n];
  }
  CHECK(near(out.at("loss").at(0), loss / 130));
  CHECK(out.at("accuracy").at(0) == double(correct) / 130);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < 9; ++i) total += out.at("confusion").data<std::int64_t>()[i];
  CHECK(total == 130);
}

TEST_CASE("onnx study: no samples give each value its shape with no rows") {
  Study s;
  std::vector<std::string> log;
  OpContext ctx = s.context(Tensor::zeros<float>({0, 4, 4, 1}), &log);
  ctx.params["layer"] = "r1";
  CHECK(s.ops.find("activations")->run(ctx).at("values").shape == std::vector<std::size_t>{0, 2, 4, 4});
}

TEST_CASE("onnx study: load_onnx's model holds the interpreter's version, so its runs rerun when it changes") {
  Study s;
  const Tensor& model = s.loaded.at("model");
  ::onnx::ModelProto proto;
  REQUIRE(proto.ParseFromArray(model.bytes.data(), static_cast<int>(model.bytes.size())));
  REQUIRE(proto.metadata_props_size() == 1);
  CHECK(proto.metadata_props(0).key() == "untangle.interpreter");
  CHECK(proto.metadata_props(0).value() == "1");
}
