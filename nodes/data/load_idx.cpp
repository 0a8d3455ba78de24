#include <filesystem>
#include <stdexcept>

#include "nodes/data/idx.h"
#include "nodes/data/limits.h"
#include "nodes/data/ops.h"

namespace untangle {

namespace {

std::vector<std::string> idx_files(const YAML::Node& params) {
  std::vector<std::string> out{params["x"].as<std::string>()};
  const std::string y = params["y"].as<std::string>();
  if (!y.empty()) out.push_back(y);
  return out;
}

// Computed in double and rounded once, so u8 · (1/255) gives the same floats as load_mnist.
Tensor scaled(const Tensor& x, double scale) {
  Tensor out = Tensor::zeros<float>(x.shape);
  float* dst = out.data<float>();
  for (std::size_t i = 0, n = x.size(); i < n; ++i) dst[i] = static_cast<float>(x.at(i) * scale);
  return out;
}

Outputs run(OpContext& ctx) {
  const auto files = idx_files(ctx.params);
  Tensor x = read_idx(files[0], max_bytes(ctx));
  note_expansion(ctx, files[0], x, std::filesystem::file_size(files[0]));
  // Outputs always exist: without a label file, y is empty, as describe's class_counts.
  Tensor y = Tensor::zeros<std::uint8_t>({0});
  if (files.size() == 2) {
    y = read_idx(files[1], max_bytes(ctx));
    if (y.shape[0] != x.shape[0])
      throw std::runtime_error(files[1] + ": " + std::to_string(y.shape[0]) + " labels, but " + files[0] + " has " +
                               std::to_string(x.shape[0]) + " rows");
  }
  const double scale = ctx.number("scale");
  return {{"x", scale == 0 ? x : scaled(x, scale)}, {"y", y}};
}

}  // namespace

OpSchema load_idx_op() {
  OpSchema op;
  op.name = "load_idx";
  op.doc =
      "Any data set in IDX files (MNIST's format, as Fashion-MNIST and others ship it), plain or .gz.\nx keeps the "
      "file's element type (uint8, int8, int16, int32, float32, float64) and shape, unless `scale` turns it into "
      "float32 times scale. The files enter the cache key by content, not by path.";
  op.outputs = {{"x", "the x file's tensor, first axis the rows; float32 when scaled"},
                {"y", "the y file's tensor, as stored; empty uint8 [0] without y"}};
  ParamSpec x{"x", ParamType::path, "IDX file of the samples (relative to the working directory)", std::nullopt};
  ParamSpec y{"y", ParamType::path, "IDX file of the labels, one per row of x; empty: none", "''"};
  x.hashed = y.hashed = false;
  ParamSpec scale{"scale", ParamType::number, "x becomes float32 x·scale (1/255 = 0.00392156862745098); 0: x as stored",
                  "0"};
  scale.min = 0;
  op.params = {x, y, scale, max_bytes_param()};
  op.files = idx_files;
  op.run = run;
  return op;
}

}  // namespace untangle
