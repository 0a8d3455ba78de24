#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "nodes/report/ops.h"

namespace untangle {

namespace {

std::vector<std::string> names(const YAML::Node& list, const std::string& what) {
  std::vector<std::string> out;
  if (!list.IsSequence() || list.size() == 0) throw std::runtime_error(what + " must be a non-empty list of names");
  for (const auto& item : list) {
    if (!item.IsScalar()) throw std::runtime_error(what + " must be a list of names");
    out.push_back(item.Scalar());
  }
  return out;
}

// Integers as integers; anything else to `digits` decimals, which is what a reader compares.
std::string cell_text(const Tensor& t, int digits) {
  if (t.dtype == DType::str) return t.strings.at(0);
  const double v = t.at(0);
  if (t.dtype != DType::f32 && t.dtype != DType::f64) return std::to_string(static_cast<long long>(v));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

Outputs run(OpContext& ctx) {
  const auto rows = names(ctx.params["rows"], "rows"), cols = names(ctx.params["columns"], "columns");
  const auto digits = static_cast<int>(ctx.integer("digits"));
  const auto& cells = ctx.inputs["cells"];
  const auto& labels = ctx.labels["cells"];
  if (cells.size() != rows.size() * cols.size())
    throw std::runtime_error("cells has " + std::to_string(cells.size()) + " values; " + std::to_string(rows.size()) +
                             " rows × " + std::to_string(cols.size()) + " columns need " +
                             std::to_string(rows.size() * cols.size()) + " (list them row by row)");
  // The grid, headers included: [rows + 1, columns + 1].
  std::vector<std::string> grid = {""};
  grid.insert(grid.end(), cols.begin(), cols.end());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    grid.push_back(rows[r]);
    for (std::size_t c = 0; c < cols.size(); ++c) {
      const Tensor& t = cells[r * cols.size() + c];
      if (!t.is_scalar()) throw std::runtime_error("cell " + labels[r * cols.size() + c] + " is " + shape_string(t.shape) + ", not a scalar");
      grid.push_back(cell_text(t, digits));
    }
  }
  const std::size_t width = cols.size() + 1;

  // Plain text for the terminal: the first column left-aligned, numbers right-aligned.
  std::vector<std::size_t> w(width, 0);
  for (std::size_t k = 0; k < grid.size(); ++k) w[k % width] = std::max(w[k % width], grid[k].size());
  std::vector<std::string> lines;
  const std::string title = ctx.string("title");
  if (!title.empty()) lines.push_back(title);
  for (std::size_t r = 0; r < grid.size() / width; ++r) {
    std::string line;
    for (std::size_t c = 0; c < width; ++c) {
      const std::string& s = grid[r * width + c];
      const std::string pad(w[c] - s.size(), ' ');
      line += c == 0 ? s + pad : "  " + pad + s;
    }
    lines.push_back(line);
  }
  std::string csv;
  for (std::size_t k = 0; k < grid.size(); ++k) {
    std::string s = grid[k];
    if (s.find_first_of(",\"\n") != std::string::npos) {
      std::string q = "\"";
      for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      s = q + "\"";
    }
    csv += s + (k % width == width - 1 ? "\n" : ",");
  }
  Tensor table = Tensor::text(grid);
  table.shape = {grid.size() / width, width};
  Tensor file = Tensor::zeros<std::uint8_t>({csv.size()});
  std::copy(csv.begin(), csv.end(), file.data<std::uint8_t>());
  return {{"table", table}, {"text", Tensor::text(lines)}, {"csv", file}};
}

}  // namespace

OpSchema table_op() {
  OpSchema op;
  op.name = "table";
  op.doc = "A table of scalars from several nodes, e.g. a summary of metrics.\nList the cells row by row: "
           "`cells: [[a.x, a.y], [b.x, b.y]]`. `untangle run` prints the table at the end of every run and copies it "
           "as CSV to the results directory.";
  op.inputs = {{"cells", "scalars, row by row (a list of NODE.PORT, or a list of such lists)", false, true}};
  PortSpec text{"text", "the table as aligned text, a line per element"};
  text.print = true;
  PortSpec csv{"csv", "the table as CSV (u8 bytes)"};
  csv.file = "csv";
  op.outputs = {{"table", "string [rows + 1, columns + 1]: headers in the first row and column"}, text, csv};
  ParamSpec rows{"rows", ParamType::any, "row names, e.g. [raw PCA, raw t-SNE]", std::nullopt};
  ParamSpec cols{"columns", ParamType::any, "column names", std::nullopt};
  ParamSpec digits{"digits", ParamType::integer, "decimals shown for non-integer values", "4"};
  digits.min = 0;
  digits.max = 17;
  op.params = {rows, cols, digits, {"title", ParamType::string, "a line above the table", "\"\""}};
  op.run = run;
  return op;
}

}  // namespace untangle
