#include <doctest/doctest.h>

// One output on any CPU: every ONNX backend case that untangle runs, and a network large enough
// to split its products over threads, give the same digests under each kernel set the CPU runs
// (UNTANGLE_ISA), under glibc's libm without FMA, and under QEMU as a CPU without AVX and FMA
// (when qemu-x86_64 is installed; tools/setup installs it). The test runs this executable again
// under each profile, for the skipped case below that prints the digests.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "nodes/numeric/isa.h"
#include "nodes/onnx/model.h"
#include "nodes/onnx/run.h"
#include "tests/helpers.h"
#include "tests/onnx_models.h"

using namespace untangle;
using namespace untangle::test;
namespace ox = untangle::onnx;
namespace fs = std::filesystem;

namespace {

std::vector<float> spread(std::size_t n, unsigned seed) {
  std::vector<float> v(n);
  std::uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / 8388608.0f - 1.0f;
  }
  return v;
}

// Conv (parallel_gemm's split) → Sigmoid → MaxPool → Flatten → Gemm → LogSoftmax, on 2 images.
std::string network_digest() {
  OnnxModel m;
  m.input("x", {-1, 8, 24, 24}).output("y", {-1, 10});
  m.init("w", {128, 8, 3, 3}, spread(128 * 8 * 9, 11));
  m.init("b", {128}, spread(128, 12));
  m.init("fc", {10, 128 * 12 * 12}, spread(10 * 128 * 144, 13));
  m.init("fb", {10}, spread(10, 14));
  set_ints(m.node("Conv", {"x", "w", "b"}, {"c"}), "pads", {1, 1, 1, 1});
  m.node("Sigmoid", {"c"}, {"s"});
  auto& pool = m.node("MaxPool", {"s"}, {"p"});
  set_ints(pool, "kernel_shape", {2, 2});
  set_ints(pool, "strides", {2, 2});
  m.node("Flatten", {"p"}, {"f"});
  set_int(m.node("Gemm", {"f", "fc", "fb"}, {"g"}), "transB", 1);
  m.node("LogSoftmax", {"g"}, {"y"});
  Tensor x = Tensor::zeros<float>({2, 8, 24, 24});
  const std::vector<float> v = spread(x.size(), 15);
  std::copy(v.begin(), v.end(), x.data<float>());
  return ox::run(ox::parse_model(m.bytes(), "net.onnx"), {{"x", x}}).at("y").digest();
}

std::map<std::string, std::string> digests_of(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string word, name, digest;
  while (in >> word)
    if (word == "digest" && in >> name >> digest) out[name] = digest;
  return out;
}

}  // namespace

TEST_CASE("onnx digests: prints every output this process computes" * doctest::skip()) {
  std::printf("digest network %s\n", network_digest().c_str());
  for (const std::string kind : {"node", "pytorch-converted", "pytorch-operator"})
    for (const auto& e : fs::directory_iterator(fs::path(ONNX_TESTDATA) / kind)) {
      const fs::path set = e.path() / "test_data_set_0";
      ox::Model m;
      try {
        m = ox::read_model((e.path() / "model.onnx").string());
      } catch (const std::exception&) {
        continue;
      }
      if (!ox::unsupported(m).empty() || !fs::exists(set)) continue;
      std::map<std::string, Tensor> inputs;
      for (std::size_t i = 0; i < m.inputs.size() && fs::exists(set / ("input_" + std::to_string(i) + ".pb")); ++i) {
        const std::string file = (set / ("input_" + std::to_string(i) + ".pb")).string();
        inputs[m.inputs[i].name] = ox::parse_tensor(read_file(file), file);
      }
      for (const auto& [name, t] : ox::run(m, inputs))
        std::printf("digest %s/%s:%s %s\n", kind.c_str(), e.path().filename().c_str(), name.c_str(), t.digest().c_str());
    }
}

TEST_CASE("onnx run: the same bits under every kernel set, glibc without FMA, and a CPU without AVX") {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string args = " '-tc=onnx digests*' --no-skip";
  std::vector<std::pair<std::string, std::string>> profiles;  // name, command prefix
  for (num::Isa isa : num::runnable_isas())
    profiles.push_back({std::string("isa=") + num::isa_name(isa), std::string("UNTANGLE_ISA=") + num::isa_name(isa) + " "});
  profiles.push_back({"glibc-nofma", "GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,-AVX "});
  if (run_command("command -v qemu-x86_64").code == 0)
    profiles.push_back({"qemu-nehalem", "qemu-x86_64 -cpu Nehalem "});
  else
    MESSAGE("qemu-x86_64 is missing (tools/setup installs it): no run as a CPU without AVX and FMA");
  std::map<std::string, std::string> first;
  for (const auto& [name, prefix] : profiles) {
    CAPTURE(name);
    const CommandResult r = run_command(prefix + "'" + self + "'" + args);
    REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
    const auto digests = digests_of(r.out);
    REQUIRE(digests.size() > 200);  // the network and every case that runs
    if (first.empty()) {
      first = digests;
      continue;
    }
    for (const auto& [output, digest] : first) CHECK_MESSAGE(digests.at(output) == digest, output);
  }
}
