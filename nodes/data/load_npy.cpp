#include <filesystem>
#include <stdexcept>

#include "nodes/data/limits.h"
#include "nodes/data/npy.h"
#include "nodes/data/ops.h"

namespace untangle {

namespace {

std::vector<std::string> npy_files(const YAML::Node& params) {
  std::vector<std::string> out{params["x"].as<std::string>()};
  if (!params["y"].as<std::string>().empty()) out.push_back(params["y"].as<std::string>());
  return out;
}

Tensor read(OpContext& ctx, const std::string& file, const std::string& key) {
  Tensor t = read_npy(ctx.string(file), ctx.string(key), max_bytes(ctx));
  note_expansion(ctx, file, t, std::filesystem::file_size(ctx.string(file)));
  return t;
}

Outputs run(OpContext& ctx) {
  Outputs out;
  out["x"] = read(ctx, "x", "x_key");
  if (ctx.string("y").empty()) {
    if (!ctx.string("y_key").empty()) throw std::runtime_error("y_key '" + ctx.string("y_key") + "' is set but y is not");
    // Every declared output must exist; an empty one stands for "no labels".
    out["y"] = Tensor::zeros<std::uint8_t>({0});
  } else {
    out["y"] = read(ctx, "y", "y_key");
  }
  return out;
}

ParamSpec file_param(const char* name, const char* doc, std::optional<std::string> def) {
  ParamSpec p{name, ParamType::path, doc, def};
  p.hashed = false;  // the file's content enters the key (files), not where it lies
  return p;
}

}  // namespace

OpSchema load_npy_op() {
  OpSchema op;
  op.name = "load_npy";
  op.doc =
      "Arrays from NumPy files: an .npy file, or one array of an .npz archive (stored or deflated, as np.savez and "
      "np.savez_compressed write them).\nAny byte order and C or Fortran order; outputs are row-major. dtypes: bool "
      "and uint8 → uint8, int8/16/32/64 as they are, uint16 → int32, uint32 → int64, float32, float64; others (uint64, "
      "float16, complex, structured) are errors, and object arrays (pickles) are refused, never loaded.\nThe files "
      "enter the cache key by content, not by path.";
  op.outputs = {{"x", "the array of x"}, {"y", "the array of y; empty (uint8 [0]) when y is not given"}};
  op.params = {file_param("x", "an .npy or .npz file (relative to the working directory)", std::nullopt),
               {"x_key", ParamType::string, "for an .npz file: the array's name (np.savez(f, train_x=...) → train_x)",
                "\"\""},
               file_param("y", "an .npy or .npz file with labels, say; optional", std::string("\"\"")),
               {"y_key", ParamType::string, "for an .npz y: the array's name", "\"\""}, max_bytes_param()};
  op.files = npy_files;
  op.run = run;
  return op;
}

}  // namespace untangle
