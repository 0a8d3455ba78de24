#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include "nodes/data/ops.h"

namespace untangle {

namespace {

struct Row {
  std::size_t line;                 // from 1, as editors count
  std::vector<std::string> fields;  // unquoted and trimmed
};

bool blank(char c) { return c == ' ' || c == '\t'; }

// One line's fields: commas separate them, spaces around a field do not count, and a field in
// double quotes may hold commas and "" for a quote. Fields never span lines.
std::vector<std::string> split(const std::string& line, const std::string& where) {
  std::vector<std::string> out;
  std::size_t i = 0;
  for (;;) {
    while (i < line.size() && blank(line[i])) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      const std::string col = std::to_string(out.size() + 1);
      for (++i;; ++i) {
        if (i == line.size()) throw std::runtime_error(where + ":" + col + ": unterminated quote");
        if (line[i] == '"' && (i + 1 == line.size() || line[i + 1] != '"')) break;
        if (line[i] == '"') ++i;
        field += line[i];
      }
      for (++i; i < line.size() && blank(line[i]);) ++i;
      if (i < line.size() && line[i] != ',')
        throw std::runtime_error(where + ":" + col + ": text after a closing quote");
    } else {
      const std::size_t end = std::min(line.find(',', i), line.size());
      field = line.substr(i, end - i);
      while (!field.empty() && blank(field.back())) field.pop_back();
      i = end;
    }
    out.push_back(field);
    if (i == line.size()) return out;
    ++i;  // the comma
  }
}

// The whole text must be the number; from_chars rounds correctly to T and knows no locale.
template <class T> std::errc parse(const std::string& s, T& v) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+' && e - b > 1 && b[1] != '-') ++b;
  const auto [ptr, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && ptr != e ? std::errc::invalid_argument : b == e ? std::errc::invalid_argument : ec;
}

bool is_number(const std::string& s) {
  double v;
  return parse(s, v) != std::errc::invalid_argument;
}

std::vector<Row> read_rows(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<Row> rows;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (std::all_of(line.begin(), line.end(), blank)) continue;
    rows.push_back({n, split(line, path + ":" + std::to_string(n))});
  }
  if (in.bad()) throw std::runtime_error(path + ": read error");
  if (rows.empty()) throw std::runtime_error(path + ": empty file");
  return rows;
}

std::string cell(const std::string& path, const Row& r, std::size_t c) {
  return path + ":" + std::to_string(r.line) + ":" + std::to_string(c + 1) + ": ";
}

// The label column's index from 0, or -1: a column number from 1, or a header's name.
long label_column(const std::string& label, const std::string& path, const std::vector<Row>& rows, bool header) {
  if (label.empty()) return -1;
  const std::size_t cols = rows[0].fields.size();
  if (std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const unsigned long n = label.size() > 9 ? cols + 1 : std::stoul(label);  // stoul would throw past 2^64
    if (n == 0) throw std::runtime_error(path + ": label column 0: columns count from 1");
    if (n > cols)
      throw std::runtime_error(path + ": label column " + label + ", but line " + std::to_string(rows[0].line) +
                               " has " + std::to_string(cols) + " columns");
    return static_cast<long>(n - 1);
  }
  if (!header) throw std::runtime_error(path + ": label '" + label + "' names a column, but the file has no header");
  const auto& names = rows[0].fields;
  const auto it = std::find(names.begin(), names.end(), label);
  if (it == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw std::runtime_error(path + ": no column '" + label + "' in the header (" + list + ")");
  }
  return it - names.begin();
}

std::int64_t parse_label(const std::string& s, const std::string& at) {
  std::int64_t v;
  if (parse(s, v) == std::errc()) return v;
  double d;
  if (parse(s, d) != std::errc()) throw std::runtime_error(at + "not a number: '" + s + "'");
  // 2^53: beyond it a double no longer tells neighbouring integers apart.
  if (d != std::floor(d) || std::fabs(d) > 9007199254740992.0)
    throw std::runtime_error(at + "label is not an integer: '" + s + "'");
  return static_cast<std::int64_t>(d);
}

template <class T> Outputs convert(const std::string& path, const std::vector<Row>& rows, std::size_t first, long label) {
  const std::size_t cols = rows[0].fields.size();
  const std::size_t n = rows.size() - first, width = cols - (label >= 0);
  if (width == 0) throw std::runtime_error(path + ": no columns besides the label");
  Tensor x = Tensor::zeros<T>({n, width});
  Tensor y = Tensor::zeros<std::int64_t>({label >= 0 ? n : 0});
  T* xs = x.data<T>();
  for (std::size_t i = 0; i < n; ++i) {
    const Row& r = rows[first + i];
    if (r.fields.size() != cols)
      throw std::runtime_error(path + ":" + std::to_string(r.line) + ": " + std::to_string(r.fields.size()) +
                               " columns, but line " + std::to_string(rows[0].line) + " has " + std::to_string(cols));
    for (std::size_t c = 0; c < cols; ++c) {
      const std::string& s = r.fields[c];
      if (static_cast<long>(c) == label) {
        y.data<std::int64_t>()[i] = parse_label(s, cell(path, r, c));
        continue;
      }
      const std::errc ec = parse(s, *xs++);
      if (ec == std::errc::result_out_of_range)
        throw std::runtime_error(cell(path, r, c) + "out of range for " + dtype_name(x.dtype) + ": '" + s + "'");
      if (ec != std::errc()) throw std::runtime_error(cell(path, r, c) + "not a number: '" + s + "'");
    }
  }
  return {{"x", x}, {"y", y}};
}

std::vector<std::string> csv_files(const YAML::Node& params) { return {params["file"].as<std::string>()}; }

Outputs run(OpContext& ctx) {
  const std::string path = csv_files(ctx.params)[0];
  const std::vector<Row> rows = read_rows(path);
  const std::string h = ctx.string("header");
  const auto& top = rows[0].fields;
  const bool header = h == "true" || (h == "auto" && !std::all_of(top.begin(), top.end(), is_number));
  if (header && rows.size() == 1) throw std::runtime_error(path + ": no data rows after the header");
  const long label = label_column(ctx.string("label"), path, rows, header);
  return ctx.string("dtype") == "float64" ? convert<double>(path, rows, header ? 1 : 0, label)
                                          : convert<float>(path, rows, header ? 1 : 0, label);
}

}  // namespace

OpSchema load_csv_op() {
  OpSchema op;
  op.name = "load_csv";
  op.doc =
      "A numeric CSV file: one row per sample, comma-separated, fields optionally in double quotes, blank lines "
      "skipped.\nA label column, when named, goes to y as int64. An error names the file, line and column (from 1) of "
      "the first bad field. The file enters the cache key by content, not by path.";
  op.outputs = {{"x", "float32 (or dtype) [rows, columns], the label column left out"},
                {"y", "int64 [rows], the label column; empty [0] without label"}};
  ParamSpec file{"file", ParamType::path, "the CSV file (relative to the working directory)", std::nullopt};
  file.hashed = false;
  ParamSpec header{"header", ParamType::choice, "whether line 1 names the columns; auto: when any field of it is not a number",
                   "auto"};
  header.choices = {"auto", "true", "false"};
  ParamSpec label{"label", ParamType::string, "the label column: its header name, or its number from 1; empty: none",
                  "''"};
  ParamSpec dtype{"dtype", ParamType::choice, "x's element type", "float32"};
  dtype.choices = {"float32", "float64"};
  op.params = {file, header, label, dtype};
  op.files = csv_files;
  op.run = run;
  return op;
}

}  // namespace untangle
