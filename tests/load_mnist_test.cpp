#include <doctest/doctest.h>

// The load_mnist op on tiny MNIST-format files: shapes, scaling to [0, 1], labels, picking
// .gz twins, and disagreeing files. prepare (which fetches the real data) is never called.
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "nodes/data/ops.h"
#include "tests/helpers.h"
#include "tests/checks.h"
#include "tests/idx_files.h"

using namespace untangle;
using namespace untangle::test;

namespace {

const char* const kTrainImages = "train-images-idx3-ubyte";
const char* const kTrainLabels = "train-labels-idx1-ubyte";
const char* const kTestImages = "t10k-images-idx3-ubyte";
const char* const kTestLabels = "t10k-labels-idx1-ubyte";

constexpr std::size_t kSide = 28, kPixels = kSide * kSide;

std::size_t at(std::size_t image, std::size_t row, std::size_t col) { return (image * kSide + row) * kSide + col; }

// n images, all zero except a few marked pixels (image, row, col) → value.
struct Marked {
  std::size_t image, row, col;
  unsigned char value;
};

Bytes images(std::size_t n, const std::vector<Marked>& marks) {
  Bytes px(n * kPixels, 0);
  for (const auto& m : marks) px[at(m.image, m.row, m.col)] = m.value;
  return idx(0x08, {static_cast<std::uint32_t>(n), kSide, kSide}, px);
}

Bytes labels(const Bytes& values) { return idx(0x08, {static_cast<std::uint32_t>(values.size())}, values); }

// 3 training and 2 test images with marked pixels, labels {7, 0, 9} and {3, 5}.
const std::vector<Marked> kTrainMarks{{0, 0, 0, 255}, {1, 3, 5, 51}, {2, 27, 27, 255}, {2, 27, 26, 102}};
const std::vector<Marked> kTestMarks{{0, 14, 14, 51}, {1, 0, 27, 255}};

void write_set(const TempDir& dir, bool gz) {
  auto w = [&](const char* name, const Bytes& b) {
    if (gz)
      write_gz(dir / (std::string(name) + ".gz"), b);
    else
      write_bytes(dir / name, b);
  };
  w(kTrainImages, images(3, kTrainMarks));
  w(kTrainLabels, labels({7, 0, 9}));
  w(kTestImages, images(2, kTestMarks));
  w(kTestLabels, labels({3, 5}));
}

OpContext context_for(const std::string& dir) {
  OpContext ctx;
  ctx.params = YAML::Node(YAML::NodeType::Map);
  ctx.params["dir"] = dir;
  return ctx;
}

void check_images(const Tensor& t, std::size_t n, const std::vector<Marked>& marks) {
  CHECK(t.dtype == DType::f32);
  CHECK(t.shape == std::vector<std::size_t>{n, 28, 28, 1});
  REQUIRE(t.bytes.size() == n * kPixels * sizeof(float));
  const float* v = t.data<float>();
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < n * kPixels; ++i) nonzero += v[i] != 0.0f;
  CHECK(nonzero == marks.size());  // everything else stays exactly 0
  for (const auto& m : marks) {
    const float expect = m.value == 255 ? 1.0f : m.value == 51 ? 0.2f : m.value == 102 ? 0.4f : -1.0f;
    CHECK_MESSAGE(v[at(m.image, m.row, m.col)] == expect,
                  "image " << m.image << " (" << m.row << ", " << m.col << ") = " << int(m.value));
  }
}

void check_labels(const Tensor& t, const Bytes& expect) {
  CHECK(t.dtype == DType::u8);
  CHECK(t.shape == std::vector<std::size_t>{expect.size()});
  REQUIRE(t.bytes.size() == expect.size());
  for (std::size_t i = 0; i < expect.size(); ++i) CHECK(t.data<std::uint8_t>()[i] == expect[i]);
}

void check_outputs(const Outputs& out) {
  REQUIRE(out.count("train_x") == 1);
  REQUIRE(out.count("train_y") == 1);
  REQUIRE(out.count("test_x") == 1);
  REQUIRE(out.count("test_y") == 1);
  CHECK(out.size() == 4);
  check_images(out.at("train_x"), 3, kTrainMarks);
  check_images(out.at("test_x"), 2, kTestMarks);
  check_labels(out.at("train_y"), {7, 0, 9});
  check_labels(out.at("test_y"), {3, 5});
}

}  // namespace

TEST_CASE("load_mnist: plain files give float images in [0, 1] and uint8 labels") {
  TempDir dir;
  write_set(dir, false);
  const OpSchema op = load_mnist_op();
  REQUIRE(op.files);
  REQUIRE(op.run);
  OpContext ctx = context_for(dir.path);
  const auto files = op.files(ctx.params);
  CHECK(files == std::vector<std::string>{dir / kTrainImages, dir / kTrainLabels, dir / kTestImages, dir / kTestLabels});

  std::vector<double> progress;
  ctx.progress = [&](double f, const std::string&) { progress.push_back(f); };
  const Outputs out = op.run(ctx);
  check_outputs(out);
  // 255 → exactly 1, 51 → exactly 51/255 as float, which is 0.2f.
  CHECK(out.at("train_x").data<float>()[0] == 1.0f);
  CHECK(out.at("train_x").data<float>()[at(1, 3, 5)] == 51 / 255.0f);
  CHECK(51 / 255.0f == 0.2f);
  REQUIRE(!progress.empty());
  CHECK(progress.back() == 1.0);
}

TEST_CASE("load_mnist: .gz files are used when the plain ones are absent") {
  TempDir dir;
  write_set(dir, true);
  const OpSchema op = load_mnist_op();
  OpContext ctx = context_for(dir.path);
  const auto files = op.files(ctx.params);
  CHECK(files == std::vector<std::string>{dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz",
                                          dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz"});
  check_outputs(op.run(ctx));
}

TEST_CASE("load_mnist: a plain file wins over its .gz twin, each file is chosen on its own") {
  TempDir dir;
  write_set(dir, true);
  // A plain training-images file beside the .gz one, with a different marked pixel.
  write_bytes(dir / kTrainImages, images(3, {{0, 1, 1, 255}}));
  const OpSchema op = load_mnist_op();
  OpContext ctx = context_for(dir.path);
  const auto files = op.files(ctx.params);
  REQUIRE(files.size() == 4);
  CHECK(files[0] == dir / kTrainImages);
  CHECK(files[1] == dir / "train-labels-idx1-ubyte.gz");
  const Outputs out = op.run(ctx);
  check_images(out.at("train_x"), 3, {{0, 1, 1, 255}});
  check_images(out.at("test_x"), 2, kTestMarks);
}

TEST_CASE("load_mnist: files() names the plain files when neither exists (for prepare to fetch)") {
  TempDir dir;
  const auto files = load_mnist_op().files(context_for(dir.path).params);
  CHECK(files == std::vector<std::string>{dir / kTrainImages, dir / kTrainLabels, dir / kTestImages, dir / kTestLabels});
}

TEST_CASE("load_mnist: disagreeing or malformed files are errors naming the file") {
  TempDir dir;
  write_set(dir, false);
  const OpSchema op = load_mnist_op();
  OpContext ctx = context_for(dir.path);
  auto run_error = [&] { return error_of([&] { op.run(ctx); }); };

  SUBCASE("fewer labels than images") {
    write_bytes(dir / kTrainLabels, labels({7, 0}));
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTrainLabels);
    CHECK_CONTAINS(e, "2 labels");
    CHECK_CONTAINS(e, "3 images");
  }
  SUBCASE("more labels than images, in the test split") {
    write_bytes(dir / kTestLabels, labels({3, 5, 1}));
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTestLabels);
    CHECK_CONTAINS(e, "3 labels");
  }
  SUBCASE("labels that are not uint8 [N]") {
    write_bytes(dir / kTrainLabels, idx(0x0C, {3}, Bytes(12, 0)));
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTrainLabels);
    CHECK_CONTAINS(e, "expected uint8 labels");
  }
  SUBCASE("images that are not uint8 [N, H, W]") {
    write_bytes(dir / kTestImages, idx(0x08, {2, kPixels}, Bytes(2 * kPixels, 0)));
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTestImages);
    CHECK_CONTAINS(e, "expected uint8 images");
  }
  SUBCASE("a missing file") {
    std::filesystem::remove(dir / kTestLabels);
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTestLabels);
  }
}
