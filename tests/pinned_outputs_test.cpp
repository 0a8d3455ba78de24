// Pinned op outputs: the cache trusts an op's version to say when its output changed, and
// trusts an op to give the same bits on every CPU. This test runs every registered op on fixed
// inputs of its own (tests/pinned_outputs.yaml, fed by the source ops of tests/pinned_inputs.h:
// no op reads another computing op's output, so one changed op moves no other op's key) and
// compares each output's digest with tests/pinned_outputs.txt, row by row under the instance's
// cache key: op, version, params and the digests of its inputs.
//
// CTest runs the first case once per CPU profile (tests/CMakeLists.txt): as the machine is, with
// narrower kernel sets (UNTANGLE_ISA), with glibc's non-FMA libm (GLIBC_TUNABLES), and under QEMU
// as a CPU without AVX and FMA, where OpenBLAS, glibc and FFTW all take other code. Each writes
// the digests it got to the build tree; the second case, pinned_outputs[agree], gives the
// verdict: a digest changed in every profile means the op's code changed (bump its version); one
// changed in some profiles only means a CPU-dependent path reaches the output (a defect).
//
// A new key has no rows yet: UNTANGLE_PIN_OUTPUTS=1 ctest -R pinned rewrites the table with the
// native profile's rows, and only when no pinned key gave different outputs in any profile.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "nodes/numeric/isa.h"
#include "nodes/register.h"
#include "pipeline/executor.h"
#include "pipeline/plan.h"
#include "pipeline/store.h"
#include "tests/h5_files.h"
#include "tests/idx_files.h"
#include "tests/npy_files.h"
#include "tests/pinned_inputs.h"

using namespace untangle;

namespace {

const std::string kTable = std::string(UNTANGLE_SOURCE_DIR) + "/tests/pinned_outputs.txt";
const std::string kGraph = std::string(UNTANGLE_SOURCE_DIR) + "/tests/pinned_outputs.yaml";
const std::string kPin = "UNTANGLE_PIN_OUTPUTS=1 ctest -R pinned";

std::string env(const char* name, const std::string& otherwise = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : otherwise;
}

// The profile this process is (set by CTest), and where the profiles' digests go.
std::string profile_name() { return env("UNTANGLE_PINNED_PROFILE", "native"); }
std::string digests_path(const std::string& profile) { return std::string(PINNED_DIR) + "/" + profile + ".txt"; }

struct Pinned {
  std::string op;
  int version = 0;
  std::string instance;
  std::map<std::string, std::string> digests;  // port → digest
};
using Rows = std::map<std::string, Pinned>;  // by key

// Lines "op version instance key port digest"; '#' starts a comment.
Rows read_rows(const std::string& path) {
  Rows out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Pinned p;
    std::string key, port, digest;
    REQUIRE_MESSAGE(static_cast<bool>(fields >> p.op >> p.version >> p.instance >> key >> port >> digest),
                    "bad line in " << path << ": " << line);
    out.emplace(key, p).first->second.digests[port] = digest;
  }
  return out;
}

std::string rows_of(const std::string& key, const Pinned& p) {
  std::string rows;
  for (const auto& [port, digest] : p.digests)
    rows += p.op + " " + std::to_string(p.version) + " " + p.instance + " " + key + " " + port + " " + digest + "\n";
  return rows;
}

std::string table_text(const Rows& rows) {
  std::string text = "# op version instance key port digest: see tests/pinned_outputs_test.cpp\n";
  for (const auto& [key, p] : rows) text += rows_of(key, p);
  return text;
}

// A digest of `port`, or "nothing" when the output is absent.
std::string digest_of(const Pinned& p, const std::string& port) {
  auto it = p.digests.find(port);
  return it == p.digests.end() ? "nothing" : it->second;
}

std::set<std::string> ports_of(const std::vector<const Pinned*>& rows) {
  std::set<std::string> ports;
  for (const auto* r : rows)
    for (const auto& [port, digest] : r->digests) ports.insert(port);
  return ports;
}

// Written whole or not at all: the verdict must never read half a profile.
void write_atomically(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  std::filesystem::rename(tmp, path);
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

// Why this profile cannot run here ("" when it can): a kernel set the CPU does not run, or the
// CPU's own set, which the native profile already covers.
std::string skip_reason() {
  const std::string isa = env("UNTANGLE_ISA");
  if (isa.empty() || profile_name() == "native") return "";
  for (auto set : {num::Isa::generic, num::Isa::avx2, num::Isa::avx512})
    if (isa == num::isa_name(set)) {
      if (!num::runs(set)) return std::string("this CPU does not run ") + isa;
      if (set == num::cpu_isa()) return isa + " is this CPU's own set: the native profile runs it";
      return "";
    }
  return "";  // a name active_isa() refuses: let the run say so
}

}  // namespace

TEST_CASE("pinned outputs under one CPU profile") {
  const std::string profile = profile_name(), out_path = digests_path(profile);
  const std::string how = env("UNTANGLE_PINNED_HOW", "as the machine is");
  std::filesystem::remove(out_path);
  if (const std::string why = skip_reason(); !why.empty()) {
    write_atomically(out_path, "# profile " + profile + ": " + how + "\n# skipped: " + why + "\n");
    MESSAGE("SKIPPED: profile " << profile << ": " << why);
    return;
  }

  test::TempDir dir;
  test::write_tiny_mnist(dir.path);
  write_numpy_files(dir);
  write_hdf5_file(dir);
  test::write_file(dir / "pinned.csv", "a,b,class\n0.5,-1,0\n\"2.25\",3e-2,1\n7,8,2\n");
  Registry real, ops;
  register_all_ops(real);
  register_all_ops(ops);
  test::pinned::register_fixed_ops(ops);
  const Plan plan = load_plan(kGraph, ops, {{"data", dir.path}});
  Store store(dir / "cache");
  Executor executor(plan, store, [](const std::string&) {});
  const RunReport report = executor.run({});
  bool all_ran = true;
  for (std::size_t i = 0; i < plan.instances.size(); ++i) {
    all_ran &= report.nodes[i].outcome == Outcome::ran;
    CHECK_MESSAGE(report.nodes[i].outcome == Outcome::ran, plan.instances[i].name << ": " << report.nodes[i].error);
  }
  REQUIRE(all_ran);

  Rows now;
  for (std::size_t i = 0; i < plan.instances.size(); ++i) {
    const Instance& inst = plan.instances[i];
    if (real.find(inst.op->name)) now[report.nodes[i].key] = {inst.op->name, inst.op->version, inst.name, report.nodes[i].digests};
  }
  write_atomically(out_path, "# profile " + profile + ": " + how + "\n" + table_text(now));
  for (const auto* op : real.all())
    CHECK_MESSAGE(std::any_of(now.begin(), now.end(), [&](const auto& kv) { return kv.second.op == op->name; }),
                  "op " << op->name << " has no node in " << kGraph << "; give it one");
  // No op may read what another computing op made: a change upstream would give every op below
  // new keys, and their outputs would go unchecked.
  for (const Instance& inst : plan.instances)
    for (const PlanInput& in : inst.inputs)
      for (std::size_t from : in.from)
        CHECK_MESSAGE(!real.find(plan.instances[from].op->name),
                      inst.name << "." << in.port << " reads " << plan.instances[from].name << "." << in.from_port
                                << ", an op's output: give it a fixed input (tests/pinned_inputs.h)");

  const Rows pinned = read_rows(kTable);
  std::string fresh;
  for (const auto& entry : now) {
    const auto& key = entry.first;
    const auto& p = entry.second;
    auto it = pinned.find(key);
    if (it == pinned.end()) {
      fresh += rows_of(key, p);
      continue;
    }
    for (const auto& port : ports_of({&p, &it->second})) {
      const std::string was = digest_of(it->second, port), is = digest_of(p, port);
      CHECK_MESSAGE(was == is, "profile " << profile << " (" << how << "): op " << p.op << " version " << p.version
                                          << ", node " << p.instance << ": output " << port << " was " << was
                                          << " and is now " << is << " for the same params and inputs; "
                                          << "pinned_outputs[agree] tells a code change from a CPU-dependent path");
    }
  }
  if (!fresh.empty() && !std::getenv("UNTANGLE_PIN_OUTPUTS"))
    FAIL("these ops ran with keys that have no pinned outputs (a new version, or new fixed inputs); check that the "
         "change is meant, then run " << kPin << ":\n" << fresh);
}

// The verdict over every profile's digests (run after them: tests/CMakeLists.txt).
TEST_CASE("pinned outputs agree across CPU profiles") {
  struct Profile {
    std::string name, how;
    Rows rows;
  };
  std::vector<Profile> profiles;
  const auto binary_time = std::filesystem::last_write_time("/proc/self/exe");
  std::istringstream names(env("UNTANGLE_PINNED_PROFILES", "native"));
  for (std::string name; std::getline(names, name, ',');) {
    const std::string path = digests_path(name);
    REQUIRE_MESSAGE(std::filesystem::exists(path), "profile " << name << " left no digests in " << path
                                                              << ": its test pinned_outputs[" << name
                                                              << "] failed before the end or did not run; ctest -R pinned runs them all");
    REQUIRE_MESSAGE(std::filesystem::last_write_time(path) >= binary_time,
                    path << " is older than the test binary: run every profile again, ctest -R pinned");
    std::ifstream in(path);
    std::string header, second;
    std::getline(in, header);
    std::getline(in, second);
    if (second.rfind("# skipped", 0) == 0) {
      MESSAGE("profile " << name << " " << second.substr(2));
      continue;
    }
    const std::string prefix = "# profile " + name + ": ";
    profiles.push_back({name, header.rfind(prefix, 0) == 0 ? header.substr(prefix.size()) : "?", read_rows(path)});
  }
  REQUIRE_MESSAGE(!profiles.empty(), "no profile ran");
  REQUIRE_MESSAGE(profiles.front().name == "native", "the first profile must be native, the one that pins");
  const Rows& native = profiles.front().rows;
  for (const auto& p : profiles)
    REQUIRE_MESSAGE(p.rows.size() == native.size(), "profile " << p.name << " ran " << p.rows.size()
                                                              << " keys, native " << native.size()
                                                              << ": the fixed inputs must not depend on the CPU");

  const Rows pinned = read_rows(kTable);
  bool pinned_differs = false;
  std::string fresh;
  for (const auto& entry : native) {
    const auto& key = entry.first;
    const auto& row = entry.second;
    std::vector<const Pinned*> all;
    for (const auto& p : profiles) {
      auto it = p.rows.find(key);
      REQUIRE_MESSAGE(it != p.rows.end(), "profile " << p.name << " has no key " << key << " (" << row.instance
                                                     << "): the fixed inputs must not depend on the CPU");
      all.push_back(&it->second);
    }
    auto was_it = pinned.find(key);
    if (was_it == pinned.end()) fresh += rows_of(key, row);
    const std::set<std::string> ports = ports_of(all);
    for (const auto& port : ports) {
      // The reference: the table's digest, or for a new key the native profile's.
      const std::string ref = was_it != pinned.end() ? digest_of(was_it->second, port) : digest_of(row, port);
      std::vector<std::size_t> differ;
      for (std::size_t i = 0; i < profiles.size(); ++i)
        if (digest_of(*all[i], port) != ref) differ.push_back(i);
      if (differ.empty()) continue;
      std::ostringstream got;
      for (std::size_t i = 0; i < profiles.size(); ++i)
        got << "\n  " << profiles[i].name << " (" << profiles[i].how << "): " << digest_of(*all[i], port);
      const std::string what = "op " + row.op + " version " + std::to_string(row.version) + ", node " + row.instance +
                               ", output " + port;
      if (was_it != pinned.end()) pinned_differs = true;
      if (was_it != pinned.end() && differ.size() == profiles.size()) {
        CHECK_MESSAGE(false, what << " was " << ref << " and is now another digest in every profile, for the same "
                                  << "params and inputs. Its code changed what it computes: bump OpSchema::version "
                                  << "where the op is declared, then run " << kPin << ". Digests:" << got.str());
      } else {
        const std::string against = was_it != pinned.end() ? "the table" : "the native profile";
        std::string which;
        for (auto i : differ) which += (which.empty() ? "" : ", ") + profiles[i].name + " (" + profiles[i].how + ")";
        CHECK_MESSAGE(false, what << ": a CPU-dependent path reaches this output: a defect, not a version bump. It "
                                  << "differs from " << against << " (" << ref << ") under " << which << ". Digests:" << got.str());
      }
    }
  }
  if (fresh.empty()) return;
  if (std::getenv("UNTANGLE_PIN_OUTPUTS")) {
    REQUIRE_MESSAGE(!pinned_differs, "not pinned: outputs of pinned keys differ (above); fix those first");
    write_atomically(kTable, table_text(native));
    MESSAGE("pinned in " << kTable << ":\n" << fresh);
    return;
  }
  FAIL("these ops ran with keys that have no pinned outputs (a new version, or new fixed inputs); check that the "
       "change is meant, then run " << kPin << ":\n" << fresh);
}
