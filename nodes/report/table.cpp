#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nodes/report/ops.h"
#include "nodes/report/page.h"

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
  const bool by_rows = ctx.string("by") == "rows";
  const auto& cells = ctx.inputs["cells"];
  const auto& labels = ctx.labels["cells"];
  if (cells.size() != rows.size() * cols.size())
    throw std::runtime_error("cells has " + std::to_string(cells.size()) + " values; " + std::to_string(rows.size()) +
                             " rows × " + std::to_string(cols.size()) + " columns need " +
                             std::to_string(rows.size() * cols.size()) + (by_rows ? " (list them row by row)" : " (list them column by column)"));
  // Text columns given in the graph (say, the published figures to compare with), after the cells.
  std::vector<std::string> note_cols;
  std::vector<std::vector<std::string>> notes;
  const YAML::Node given = ctx.params["notes"];
  if (given && !given.IsNull() && !given.IsMap()) throw std::runtime_error("notes must be a map: column name → one text per row");
  for (auto it = given.begin(); given && given.IsMap() && it != given.end(); ++it) {
    note_cols.push_back(it->first.as<std::string>());
    notes.push_back(names(it->second, "notes column '" + note_cols.back() + "'"));
    if (notes.back().size() != rows.size())
      throw std::runtime_error("notes column '" + note_cols.back() + "' has " + std::to_string(notes.back().size()) +
                               " entries for " + std::to_string(rows.size()) + " rows");
  }
  // The grid, headers included: [rows + 1, columns + 1]; and the same with every value's source.
  std::vector<std::string> grid = {""};
  grid.insert(grid.end(), cols.begin(), cols.end());
  grid.insert(grid.end(), note_cols.begin(), note_cols.end());
  nlohmann::json json_rows = nlohmann::json::array();
  page::Repairs repair;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    grid.push_back(rows[r]);
    nlohmann::json row_cells = nlohmann::json::array();
    for (std::size_t c = 0; c < cols.size(); ++c) {
      const std::size_t at = by_rows ? r * cols.size() + c : c * rows.size() + r;
      const Tensor& t = cells[at];
      const std::string& source = labels[at];
      if (!t.is_scalar()) throw std::runtime_error("cell " + source + " is " + shape_string(t.shape) + ", not a scalar");
      grid.push_back(repair(cell_text(t, digits), "cell " + source));
      nlohmann::json cell = {{"text", grid.back()}, {"source", source}};
      if (t.dtype != DType::str) cell["value"] = t.at(0);
      row_cells.push_back(cell);
    }
    for (const auto& column : notes) {
      grid.push_back(column[r]);
      row_cells.push_back({{"text", column[r]}});
    }
    json_rows.push_back({{"name", rows[r]}, {"cells", row_cells}});
  }
  std::vector<std::string> all_cols = cols;
  all_cols.insert(all_cols.end(), note_cols.begin(), note_cols.end());
  const nlohmann::json json = {{"title", ctx.string("title")}, {"columns", all_cols}, {"rows", json_rows}};
  const std::size_t width = all_cols.size() + 1;
  if (!repair.what.empty()) ctx.log("warning: " + repair.message());

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
  for (std::size_t k = 0; k < grid.size(); ++k) csv += csv_field(grid[k]) + (k % width == width - 1 ? "\n" : ",");
  Tensor table = Tensor::text(grid);
  table.shape = {grid.size() / width, width};
  return {{"table", table}, {"text", Tensor::text(lines)}, {"csv", Tensor::file(csv)}, {"json", Tensor::text({json.dump()})}};
}

}  // namespace

OpSchema table_op() {
  OpSchema op;
  op.name = "table";
  op.light = true;
  op.doc = "A table of scalars from several nodes, e.g. a summary of metrics.\nList the cells row by row: "
           "`cells: [[a.x, a.y], [b.x, b.y]]`, or with `by: columns` column by column, where a swept node's output "
           "fills a column with one value per instance. `untangle run` prints the table at the end of every run and copies it "
           "as CSV to the results directory.";
  op.inputs = {{"cells", "scalars, row by row (a list of NODE.PORT, or a list of such lists)", false, true}};
  PortSpec text{"text", "the table as aligned text, a line per element"};
  text.print = true;
  PortSpec csv{"csv", "the table as CSV (u8 bytes)"};
  csv.file = "csv";
  op.outputs = {{"table", "string [rows + 1, columns + 1]: headers in the first row and column"},
                text,
                csv,
                {"json", "the table as JSON, each value with its source node.port (for the report op)"}};
  ParamSpec name{"name", ParamType::string, "", std::nullopt};
  ParamSpec rows{"rows", ParamType::list, "row names, e.g. [raw PCA, raw t-SNE]", std::nullopt};
  rows.min = 1;
  rows.items = {name};
  ParamSpec cols = rows;
  cols.name = "columns";
  cols.doc = "column names";
  ParamSpec digits{"digits", ParamType::integer, "decimals shown for non-integer values", "4"};
  digits.min = 0;
  digits.max = 17;
  ParamSpec column{"column", ParamType::list, "one text per row", std::nullopt};
  column.items = {name};
  ParamSpec notes{"notes", ParamType::dict, "text columns after the cells: {column name: [one text per row]}", "{}"};
  notes.items = {column};
  ParamSpec by{"by", ParamType::choice,
               "how cells fill the table: row by row, or column by column (a column per swept source)", "rows"};
  by.choices = {"rows", "columns"};
  op.params = {rows, cols, digits, {"title", ParamType::string, "a line above the table", "\"\""}, notes, by};
  op.run = run;
  return op;
}

}  // namespace untangle
