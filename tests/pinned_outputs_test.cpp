// Pinned op outputs: the cache trusts an op's version to say when its output changed. This test
// runs every registered op on fixed inputs (tests/pinned_outputs.yaml) and compares each output's
// digest with tests/pinned_outputs.txt, row by row under the instance's cache key: op, version,
// params and the digests of its inputs. One key must always give the same outputs; an op whose
// code changes what it computes without a new version fails here, so a forgotten bump cannot land.
//
// A new key (a bumped version, or new inputs because an upstream op changed) has no rows yet:
// UNTANGLE_PIN_OUTPUTS=1 rewrites the table with the rows of this run, and only when no pinned
// key gave different outputs.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <algorithm>
#include <set>
#include <sstream>

#include "nodes/register.h"
#include "pipeline/executor.h"
#include "pipeline/plan.h"
#include "pipeline/store.h"
#include "tests/idx_files.h"
#include "tests/h5_files.h"
#include "tests/npy_files.h"

using namespace untangle;

namespace {

const std::string kTable = std::string(UNTANGLE_SOURCE_DIR) + "/tests/pinned_outputs.txt";
const std::string kGraph = std::string(UNTANGLE_SOURCE_DIR) + "/tests/pinned_outputs.yaml";

struct Pinned {
  std::string op;
  int version = 0;
  std::string instance;
  std::map<std::string, std::string> digests;  // port → digest
};

// Lines "op version instance key port digest"; '#' starts a comment.
std::map<std::string, Pinned> read_table(const std::string& path) {
  std::map<std::string, Pinned> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Pinned p;
    std::string key, port, digest;
    REQUIRE_MESSAGE(static_cast<bool>(fields >> p.op >> p.version >> p.instance >> key >> port >> digest),
                    "bad line in " << path << ": " << line);
    auto& row = out.emplace(key, p).first->second;
    row.digests[port] = digest;
  }
  return out;
}

std::string rows_of(const std::string& key, const Pinned& p) {
  std::string rows;
  for (const auto& [port, digest] : p.digests)
    rows += p.op + " " + std::to_string(p.version) + " " + p.instance + " " + key + " " + port + " " + digest + "\n";
  return rows;
}

// Tiny NumPy files for load_npy: an archive with a deflated and a stored member, and a
// big-endian Fortran-order array.
void write_numpy_files(const test::TempDir& dir) {
  const std::string x = test::npy("<f4", "(4, 3)", test::le_bytes<float>({0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f, 5, 5.5f}));
  const std::string y = test::npy("|u1", "(4,)", test::le_bytes<std::uint8_t>({0, 1, 1, 0}));
  test::write_file(dir / "arrays.npz", test::zip({{"x.npy", x, true}, {"y.npy", y, false}}));
  test::write_file(dir / "x.npy",
                   test::npy(">i2", "(2, 3)", test::swap_items(test::le_bytes<std::int16_t>({1, -4, 2, 5, -3, 6}), 2), true));
}

// A tiny HDF5 file for load_hdf5: big-endian integers and a rank-3 float dataset.
void write_hdf5_file(const test::TempDir& dir) {
  const float images[2][2][3] = {{{0, 0.5f, 1}, {1.5f, 2, 2.5f}}, {{3, 3.5f, 4}, {4.5f, 5, 5.5f}}};
  const std::uint16_t labels[] = {7, 65535};
  test::write_h5(dir / "data.h5", {{"/train/images", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 2, 3}, images},
                                   {"/train/labels", H5T_STD_U16BE, H5T_NATIVE_UINT16, {2}, labels}});
}

}  // namespace

TEST_CASE("pinned outputs: no op's output changes while it keeps its version") {
  test::TempDir dir;
  test::write_tiny_mnist(dir.path);
  write_numpy_files(dir);
  write_hdf5_file(dir);
  test::write_file(dir / "pinned.csv", "a,b,class\n0.5,-1,0\n\"2.25\",3e-2,1\n7,8,2\n");
  Registry ops;
  register_all_ops(ops);
  const Plan plan = load_plan(kGraph, ops, {{"data", dir.path}});
  Store store(dir / "cache");
  Executor executor(plan, store, [](const std::string&) {});
  const RunReport report = executor.run({});
  for (std::size_t i = 0; i < plan.instances.size(); ++i)
    REQUIRE_MESSAGE(report.nodes[i].outcome == Outcome::ran, plan.instances[i].name << ": " << report.nodes[i].error);

  std::map<std::string, Pinned> now;
  for (std::size_t i = 0; i < plan.instances.size(); ++i) {
    const Instance& inst = plan.instances[i];
    now[report.nodes[i].key] = {inst.op->name, inst.op->version, inst.name, report.nodes[i].digests};
  }
  for (const auto* op : ops.all())
    CHECK_MESSAGE(std::any_of(now.begin(), now.end(), [&](const auto& kv) { return kv.second.op == op->name; }),
                  "op " << op->name << " has no node in " << kGraph << "; give it one");

  const auto pinned = read_table(kTable);
  std::string table = "# op version instance key port digest: see tests/pinned_outputs_test.cpp\n", fresh;
  bool changed = false;
  for (const auto& [key, p] : now) {
    table += rows_of(key, p);
    auto it = pinned.find(key);
    if (it == pinned.end()) {
      fresh += rows_of(key, p);
      continue;
    }
    // A changed digest, or an output gained or lost, under the same key.
    std::set<std::string> ports;
    for (const auto* d : {&p.digests, &it->second.digests})
      for (const auto& [port, digest] : *d) ports.insert(port);
    for (const auto& port : ports) {
      const auto a = p.digests.find(port), b = it->second.digests.find(port);
      const std::string is = a == p.digests.end() ? "nothing" : a->second;
      const std::string was = b == it->second.digests.end() ? "nothing" : b->second;
      changed |= was != is;
      CHECK_MESSAGE(was == is, "op " << p.op << " version " << p.version << ", node " << p.instance << ": output " << port
                                     << " was " << was << " and is now " << is
                                     << " for the same params and inputs. Its code changed what it computes: bump "
                                        "OpSchema::version where the op is declared, then run UNTANGLE_PIN_OUTPUTS=1 "
                                        "ctest -R pinned to pin the new version's outputs");
    }
  }
  if (fresh.empty() || changed) return;
  if (std::getenv("UNTANGLE_PIN_OUTPUTS")) {
    std::ofstream(kTable) << table;
    MESSAGE("pinned in " << kTable << ":\n" << fresh);
    return;
  }
  FAIL("these ops ran with keys that have no pinned outputs (a new version, or new inputs from a changed op "
       "upstream); check that the change is meant, then run UNTANGLE_PIN_OUTPUTS=1 ctest -R pinned:\n"
       << fresh);
}
