#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "nodes/data/idx.h"
#include "nodes/data/ops.h"

namespace untangle {

namespace {

const char* const kFiles[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                              "t10k-labels-idx1-ubyte"};

// The plain file when present, else its .gz twin.
std::vector<std::string> mnist_files(const YAML::Node& params) {
  const std::string dir = params["dir"].as<std::string>();
  std::vector<std::string> out;
  for (const char* f : kFiles) {
    const std::string plain = dir + "/" + f;
    out.push_back(!std::filesystem::exists(plain) && std::filesystem::exists(plain + ".gz") ? plain + ".gz" : plain);
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

void fetch(const YAML::Node& params) {
  const std::string dir = params["dir"].as<std::string>();
  const std::string script = std::string(UNTANGLE_SOURCE_DIR) + "/data/fetch-mnist";
  const int rc = std::system((shell_quote(script) + " " + shell_quote(dir) + " >&2").c_str());
  if (rc == 0) return;
  // The script's own messages, on stderr, name the files; this one, in the run's log, points there.
  const std::string how = WIFEXITED(rc) ? "exit status " + std::to_string(WEXITSTATUS(rc)) : "interrupted";
  throw std::runtime_error("MNIST is not in " + dir + " and " + script + " could not put it there (" + how +
                           "); its messages above say which files are missing or wrong and what to do");
}

// uint8 images [N, H, W] → float32 in [0, 1], [N, H, W, 1] (channels last, as Keras).
Tensor to_unit_float(const Tensor& img, const std::string& path) {
  if (img.dtype != DType::u8 || img.shape.size() != 3)
    throw std::runtime_error(path + ": expected uint8 images of shape [N, H, W], got " + dtype_name(img.dtype) + " " +
                             shape_string(img.shape));
  Tensor out = Tensor::zeros<float>({img.shape[0], img.shape[1], img.shape[2], 1});
  const std::uint8_t* src = img.data<std::uint8_t>();
  float* dst = out.data<float>();
  for (std::size_t i = 0, n = img.size(); i < n; ++i) dst[i] = src[i] / 255.0f;
  return out;
}

Tensor labels(const Tensor& lab, const std::string& path, const Tensor& images, const std::string& image_path) {
  if (lab.dtype != DType::u8 || lab.shape.size() != 1)
    throw std::runtime_error(path + ": expected uint8 labels of shape [N], got " + dtype_name(lab.dtype) + " " +
                             shape_string(lab.shape));
  if (lab.shape[0] != images.shape[0])
    throw std::runtime_error(path + ": " + std::to_string(lab.shape[0]) + " labels, but " + image_path + " has " +
                             std::to_string(images.shape[0]) + " images");
  return lab;
}

Outputs run(OpContext& ctx) {
  const auto files = mnist_files(ctx.params);
  Outputs out;
  const char* names[2][2] = {{"train_x", "train_y"}, {"test_x", "test_y"}};
  for (int split = 0; split < 2; ++split) {
    const std::string& ip = files[2 * split];
    const std::string& lp = files[2 * split + 1];
    Tensor images = read_idx(ip);
    out[names[split][1]] = labels(read_idx(lp), lp, images, ip);
    out[names[split][0]] = to_unit_float(images, ip);
    ctx.progress((split + 1) / 2.0, names[split][0]);
  }
  return out;
}

}  // namespace

OpSchema load_mnist_op() {
  OpSchema op;
  op.name = "load_mnist";
  op.doc =
      "The MNIST digits: 60,000 training and 10,000 test images as float32 in [0, 1], shape N×28×28×1, with uint8 "
      "labels.\nReads the four IDX files (plain or .gz) from `dir`, fetching the missing ones with data/fetch-mnist, "
      "which replaces no file (it refuses a dir whose other files are not MNIST's). "
      "The files enter the cache key by content, not by path.";
  op.outputs = {{"train_x", "training images, float32 [60000, 28, 28, 1]"},
                {"train_y", "training labels, uint8 [60000]"},
                {"test_x", "test images, float32 [10000, 28, 28, 1]"},
                {"test_y", "test labels, uint8 [10000]"}};
  ParamSpec dir{"dir", ParamType::path, "directory holding the IDX files (relative to the working directory)",
                "data/mnist"};
  dir.hashed = false;
  op.params = {dir};
  op.files = mnist_files;
  op.prepare = fetch;
  op.run = run;
  return op;
}

}  // namespace untangle
