#include <filesystem>
#include <stdexcept>

#include "nodes/data/hdf5_child.h"
#include "nodes/data/limits.h"
#include "nodes/data/ops.h"

namespace untangle {

namespace {

Outputs run(OpContext& ctx) {
  const std::string path = ctx.string("file");
  const std::size_t limit = max_bytes(ctx);
  Outputs out;
  out["x"] = read_hdf5_in_child(path, ctx.string("x"), limit);
  note_expansion(ctx, path + ": dataset '" + ctx.string("x") + "'", out["x"], std::filesystem::file_size(path));
  // Every declared output must exist; an empty one stands for "no labels".
  out["y"] = ctx.string("y").empty() ? Tensor::zeros<std::uint8_t>({0}) : read_hdf5_in_child(path, ctx.string("y"), limit);
  return out;
}

}  // namespace

OpSchema load_hdf5_op() {
  OpSchema op;
  op.name = "load_hdf5";
  op.doc =
      "Datasets of an HDF5 file, any rank, as tensors.\nIntegers and floats map to the tensor type of their size "
      "and sign (uint16 → int32 and uint32 → int64, which hold every value); uint64, float16, strings, compounds "
      "and enums (h5py's booleans) are errors.\nThe file enters the cache key by content, not by path; the "
      "dataset names by value. So nothing is read from another file: external links, external raw storage and "
      "virtual datasets are errors; soft links inside the file are followed.";
  op.outputs = {{"x", "the dataset x"}, {"y", "the dataset y; empty (uint8 [0]) when y is not given"}};
  ParamSpec file{"file", ParamType::path, "the HDF5 file (relative to the working directory)", std::nullopt};
  file.hashed = false;
  op.params = {file,
               {"x", ParamType::string, "the dataset's path in the file, e.g. /train/images", std::nullopt},
               {"y", ParamType::string, "a second dataset, e.g. /train/labels; optional", "\"\""},
               max_bytes_param()};
  op.files = [](const YAML::Node& params) { return std::vector<std::string>{params["file"].as<std::string>()}; };
  op.run = run;
  return op;
}

}  // namespace untangle
