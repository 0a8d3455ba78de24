#include <doctest/doctest.h>

// ONNX's own backend cases (Debian's libonnx-testdata: node, pytorch-converted, pytorch-operator),
// each a model.onnx with test_data_set_*/input_N.pb and the expected output_N.pb. Every case whose
// ops, attributes and element types untangle runs must give its expected outputs at the tolerances
// of ONNX's backend runner (onnx/backend/test/loader: rtol 1e-3, atol 1e-7, as numpy's
// assert_allclose applies them); every other case is listed with the reason it is skipped.
// UNTANGLE_ONNX_CASE=test_conv_with_strides_padding runs the cases of that name only.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "nodes/onnx/model.h"
#include "nodes/onnx/run.h"
#include "tests/helpers.h"

using namespace untangle;
namespace fs = std::filesystem;

namespace {

constexpr double kRtol = 1e-3, kAtol = 1e-7;

std::vector<fs::path> sorted_dirs(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// "" when `got` matches `want` as assert_allclose(got, want, rtol, atol) would have it (NaN
// matching NaN), else the first difference.
std::string mismatch(const Tensor& got, const Tensor& want) {
  if (got.dtype != want.dtype) return std::string("dtype ") + dtype_name(got.dtype) + ", expected " + dtype_name(want.dtype);
  if (got.shape != want.shape) return "shape " + shape_string(got.shape) + ", expected " + shape_string(want.shape);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got.at(i), w = want.at(i);
    if (std::isnan(g) && std::isnan(w)) continue;
    if (g == w) continue;  // infinities of one sign
    if (!(std::fabs(g - w) <= kAtol + kRtol * std::fabs(w)))
      return "element " + std::to_string(i) + " is " + std::to_string(g) + ", expected " + std::to_string(w);
  }
  return "";
}

struct Outcome {
  bool supported = false;
  std::string problem;  // why it is skipped, or how it failed
};

Outcome run_case(const fs::path& dir) {
  Outcome o;
  onnx::Model m;
  try {
    m = onnx::read_model((dir / "model.onnx").string());
  } catch (const std::exception& e) {
    // A model refused for an element type untangle does not hold is skipped; any other refusal of
    // one of ONNX's own models is the loader's failure.
    o.supported = std::string(e.what()).find("untangle reads") == std::string::npos;
    o.problem = std::string("does not load: ") + e.what();
    return o;
  }
  const std::vector<std::string> lines = onnx::unsupported(m);
  if (!lines.empty()) {
    o.problem = lines[0] + (lines.size() > 1 ? " (and " + std::to_string(lines.size() - 1) + " more)" : "");
    return o;
  }
  o.supported = true;
  const std::vector<fs::path> sets = sorted_dirs(dir, "test_data_set_");
  if (sets.empty()) o.problem = "no test data";
  for (const fs::path& set : sets) {
    try {
      std::map<std::string, Tensor> inputs;
      for (std::size_t i = 0; fs::exists(set / ("input_" + std::to_string(i) + ".pb")); ++i) {
        const std::string file = (set / ("input_" + std::to_string(i) + ".pb")).string();
        if (i >= m.inputs.size()) throw std::runtime_error(file + ": the model has " + std::to_string(m.inputs.size()) + " inputs");
        inputs[m.inputs[i].name] = onnx::parse_tensor(test::read_file(file), file);
      }
      const std::map<std::string, Tensor> got = onnx::run(m, inputs);
      for (std::size_t i = 0; fs::exists(set / ("output_" + std::to_string(i) + ".pb")); ++i) {
        const std::string file = (set / ("output_" + std::to_string(i) + ".pb")).string();
        const Tensor want = onnx::parse_tensor(test::read_file(file), file);
        const std::string why = mismatch(got.at(m.outputs.at(i).name), want);
        if (!why.empty()) {
          o.problem = set.filename().string() + ": output '" + m.outputs[i].name + "': " + why;
          return o;
        }
      }
    } catch (const std::exception& e) {
      o.problem = set.filename().string() + ": " + e.what();
      return o;
    }
  }
  return o;
}

}  // namespace

TEST_CASE("onnx conformance: every backend case of ONNX's whose ops untangle runs gives ONNX's outputs") {
  const char* only = std::getenv("UNTANGLE_ONNX_CASE");
  std::size_t total = 0, total_supported = 0, total_passed = 0;
  std::vector<std::string> failures;
  for (const std::string kind : {"node", "pytorch-converted", "pytorch-operator"}) {
    const std::vector<fs::path> dirs = sorted_dirs(fs::path(ONNX_TESTDATA) / kind, "test_");
    REQUIRE_MESSAGE(!dirs.empty(), (std::string("no cases in " ONNX_TESTDATA "/") + kind + ": is libonnx-testdata installed?"));
    std::size_t supported = 0, passed = 0, cases = 0;
    for (const fs::path& dir : dirs) {
      if (only && dir.filename() != only) continue;
      ++cases;
      const Outcome o = run_case(dir);
      const std::string name = kind + "/" + dir.filename().string();
      if (!o.supported) {
        std::printf("skipped %s: %s\n", name.c_str(), o.problem.c_str());
        continue;
      }
      ++supported;
      if (o.problem.empty()) {
        ++passed;
        std::printf("passed  %s\n", name.c_str());
      } else {
        std::printf("FAILED  %s: %s\n", name.c_str(), o.problem.c_str());
        failures.push_back(name + ": " + o.problem);
      }
    }
    std::printf("%s: %zu of %zu cases pass (%zu cases, %zu skipped)\n", kind.c_str(), passed, supported, cases,
                cases - supported);
    total += cases, total_supported += supported, total_passed += passed;
  }
  std::printf("%zu of %zu cases pass (of %zu cases, %zu skipped)\n", total_passed, total_supported, total,
              total - total_supported);
  std::fflush(stdout);
  for (const std::string& f : failures) FAIL_CHECK(f);
  CHECK(total_supported > 0);
}
