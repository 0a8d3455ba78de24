// One data set through every loader: IDX files, an .npz written by NumPy and an HDF5 file written
// by h5py must give tensors with equal digests, so a graph can switch formats and stay cached.
#include <doctest/doctest.h>

#include <iostream>

#include "nodes/register.h"
#include "pipeline/executor.h"
#include "pipeline/plan.h"
#include "pipeline/store.h"
#include "tests/idx_files.h"

using namespace untangle;

TEST_CASE("loaders: IDX, NumPy's .npz and h5py's HDF5 of one data set give equal digests") {
  // Debian's python3, where python3-h5py brings NumPy; another python3 may lack both.
  const std::string python = "/usr/bin/python3";
  if (test::run_command(python + " -c 'import numpy, h5py'").code != 0) {
    std::cout << "SKIPPED: " << python << " with numpy and h5py is not installed (tools/setup installs python3-h5py)\n";
    return;
  }
  test::TempDir dir;
  test::write_tiny_mnist(dir.path);
  test::write_file(dir / "convert.py", R"(import sys, numpy as np, h5py
d = sys.argv[1]
def idx(name, offset):
    return np.frombuffer(open(d + "/" + name, "rb").read()[offset:], dtype=np.uint8)
x = idx("train-images-idx3-ubyte", 16).reshape(100, 28, 28)
y = idx("train-labels-idx1-ubyte", 8)
np.savez_compressed(d + "/mnist.npz", train_x=x, train_y=y)
with h5py.File(d + "/mnist.h5", "w") as f:
    f["/train/images"] = x
    f["/train/labels"] = y
)");
  const auto converted = test::run_command(python + " " + dir / "convert.py" + " " + dir.path);
  REQUIRE_MESSAGE(converted.code == 0, converted.err);
  test::write_file(dir / "g.yaml", R"(nodes:
  idx: {op: load_idx, params: {x: ")" + dir / "train-images-idx3-ubyte" + R"(", y: ")" + dir / "train-labels-idx1-ubyte" + R"("}}
  npz: {op: load_npy, params: {x: ")" + dir / "mnist.npz" + R"(", x_key: train_x, y: ")" + dir / "mnist.npz" + R"(", y_key: train_y}}
  h5: {op: load_hdf5, params: {file: ")" + dir / "mnist.h5" + R"(", x: /train/images, y: /train/labels}}
)");
  Registry ops;
  register_all_ops(ops);
  const Plan plan = load_plan(dir / "g.yaml", ops, {});
  Store store(dir / "cache");
  const RunReport r = Executor(plan, store, [](const std::string&) {}).run({});
  REQUIRE(r.ran == 3);
  const auto& idx = r.nodes[plan.by_name.at("idx")].digests;
  for (const char* other : {"npz", "h5"})
    for (const char* port : {"x", "y"})
      CHECK_MESSAGE(r.nodes[plan.by_name.at(other)].digests.at(port) == idx.at(port), other << "." << port);
}
