// CSV files through the load_csv op, run directly as an op is run. The first byte picks the
// params (header, label column, dtype, whether NaN and infinities are allowed), so the fuzzer
// explores those paths too; the rest is the file.
#include "nodes/data/ops.h"
#include "tests/fuzz/fuzz.h"

using namespace untangle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const OpSchema op = load_csv_op();
  static const char* const headers[] = {"auto", "true", "false"};
  static const char* const labels[] = {"", "1", "3", "label"};
  const unsigned pick = data[0];
  fuzz::TempFile file(fuzz::bytes_of(data + 1, size - 1), ".csv");
  OpContext ctx;
  ctx.params = YAML::Node(YAML::NodeType::Map);
  // Params the op may gain later keep their defaults, as a graph that leaves them out gets.
  for (const auto& p : op.params)
    if (p.default_value) ctx.params[p.name] = YAML::Load(*p.default_value);
  ctx.params["file"] = file.path;
  ctx.params["header"] = headers[pick % 3];
  ctx.params["label"] = labels[pick / 3 % 4];
  ctx.params["dtype"] = pick / 12 % 2 ? "float64" : "float32";
  if (op.param("allow_nonfinite")) ctx.params["allow_nonfinite"] = pick / 24 % 2 == 1;
  try {
    for (const auto& [port, t] : op.run(ctx)) fuzz::check_tensor(t);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
