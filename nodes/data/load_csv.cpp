#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string_view>

#include "nodes/data/ops.h"

namespace untangle {

namespace {

// Past this, a line is refused rather than held: a file without newlines must not become one
// string as large as itself.
constexpr std::size_t kMaxLine = std::size_t{16} << 20;
constexpr std::size_t kBlock = std::size_t{64} << 10;

// A file's lines, read a block at a time: memory follows the longest line, not the file.
class Lines {
 public:
  explicit Lines(const std::string& path) : path_(path), in_(path, std::ios::binary), buf_(kBlock) {
    if (!in_) throw std::runtime_error(path + ": cannot open");
  }

  // The next line without its \n or \r\n, valid until the next call; false at the end.
  bool next(std::string_view& line) {
    for (;;) {
      const char* begin = buf_.data() + start_;
      const auto* nl = static_cast<const char*>(std::memchr(begin + scanned_, '\n', end_ - start_ - scanned_));
      if (nl || (eof_ && start_ < end_)) {
        line = std::string_view(begin, (nl ? nl : buf_.data() + end_) - begin);
        start_ += line.size() + (nl != nullptr);
        scanned_ = 0;
        ++number_;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > kMaxLine) throw too_long();
        return true;
      }
      if (eof_) return false;
      scanned_ = end_ - start_;
      if (scanned_ > kMaxLine + 1) {  // + 1: a \r that \r\n would drop
        ++number_;
        throw too_long();
      }
      fill();
    }
  }
  std::size_t number() const { return number_; }  // of the last line returned, from 1

 private:
  void fill() {
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
    if (buf_.size() < end_ + kBlock) buf_.resize(end_ + kBlock);
    in_.read(buf_.data() + end_, kBlock);
    end_ += in_.gcount();
    if (in_.bad()) throw std::runtime_error(path_ + ": read error");
    eof_ = in_.eof();
  }
  std::runtime_error too_long() const {
    return std::runtime_error(path_ + ":" + std::to_string(number_) + ": line longer than 16 MiB");
  }

  std::string path_;
  std::ifstream in_;
  std::vector<char> buf_;
  std::size_t start_ = 0, end_ = 0;  // the unread part of buf_
  std::size_t scanned_ = 0;          // bytes after start_ known to hold no \n
  std::size_t number_ = 0;
  bool eof_ = false;
};

bool blank(char c) { return c == ' ' || c == '\t'; }

// One line's fields: commas separate them, spaces around a field do not count, and a field in
// double quotes may hold commas and "" for a quote. Fields never span lines.
void split(std::string_view line, const std::string& path, std::size_t number, std::vector<std::string>& out) {
  out.clear();
  const auto fail = [&](const char* what) {  // in the field just begun, out.back()
    return std::runtime_error(path + ":" + std::to_string(number) + ":" + std::to_string(out.size()) + ": " + what);
  };
  std::size_t i = 0;
  for (;;) {
    while (i < line.size() && blank(line[i])) ++i;
    std::string& field = out.emplace_back();
    if (i < line.size() && line[i] == '"') {
      for (++i;; ++i) {
        if (i == line.size()) throw fail("unterminated quote");
        if (line[i] == '"' && (i + 1 == line.size() || line[i + 1] != '"')) break;
        if (line[i] == '"') ++i;
        field += line[i];
      }
      for (++i; i < line.size() && blank(line[i]);) ++i;
      if (i < line.size() && line[i] != ',') throw fail("text after a closing quote");
    } else {
      const std::size_t end = std::min(line.find(',', i), line.size());
      field.assign(line.substr(i, end - i));
      while (!field.empty() && blank(field.back())) field.pop_back();
      i = end;
    }
    if (i == line.size()) return;
    ++i;  // the comma
  }
}

// The file's rows, one at a time: blank lines skipped, each row split into `fields`.
struct Rows {
  const std::string& path;
  Lines lines;
  std::vector<std::string> fields;  // unquoted and trimmed

  explicit Rows(const std::string& file) : path(file), lines(file) {}

  bool next() {
    for (std::string_view line; lines.next(line);)
      if (!std::all_of(line.begin(), line.end(), blank)) {
        split(line, path, lines.number(), fields);
        return true;
      }
    return false;
  }
  std::string cell(std::size_t c) const {
    return path + ":" + std::to_string(lines.number()) + ":" + std::to_string(c + 1) + ": ";
  }
};

// The whole text must be the number; from_chars rounds correctly to T and knows no locale.
template <class T> std::errc parse(const std::string& s, T& v) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+' && e - b > 1 && b[1] != '-') ++b;
  const auto [ptr, ec] = std::from_chars(b, e, v);
  return b == e || ptr != e ? std::errc::invalid_argument : ec;
}

bool is_number(const std::string& s) {
  double v;
  return parse(s, v) != std::errc::invalid_argument;
}

// A number past T's range lies far above 1 or far below it; strtod's ±HUGE_VAL or tiny result
// says which (in the C locale, which untangle never changes).
bool overflows(const std::string& s) { return std::fabs(std::strtod(s.c_str(), nullptr)) > 1; }

// The label column's index from 0, or -1: a column number from 1, or a header's name.
long label_column(const std::string& label, const std::string& path, const std::vector<std::string>& names,
                  std::size_t cols, std::size_t first_line, bool header) {
  if (label.empty()) return -1;
  if (std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const unsigned long n = label.size() > 9 ? cols + 1 : std::stoul(label);  // stoul would throw past 2^64
    if (n == 0) throw std::runtime_error(path + ": label column 0: columns count from 1");
    if (n > cols)
      throw std::runtime_error(path + ": label column " + label + ", but line " + std::to_string(first_line) +
                               " has " + std::to_string(cols) + " columns");
    return static_cast<long>(n - 1);
  }
  if (!header) throw std::runtime_error(path + ": label '" + label + "' names a column, but the file has no header");
  const auto it = std::find(names.begin(), names.end(), label);
  if (it == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw std::runtime_error(path + ": no column '" + label + "' in the header (" + list + ")");
  }
  return it - names.begin();
}

std::int64_t parse_label(const Rows& rows, std::size_t c) {
  const std::string& s = rows.fields[c];
  std::int64_t v;
  if (parse(s, v) == std::errc()) return v;
  double d;
  if (parse(s, d) != std::errc()) throw std::runtime_error(rows.cell(c) + "not a number: '" + s + "'");
  // 2^53: beyond it a double no longer tells neighbouring integers apart.
  if (d != std::floor(d) || std::fabs(d) > 9007199254740992.0)
    throw std::runtime_error(rows.cell(c) + "label is not an integer: '" + s + "'");
  return static_cast<std::int64_t>(d);
}

template <class T> T parse_value(const Rows& rows, std::size_t c, bool allow_nonfinite) {
  const std::string& s = rows.fields[c];
  T v;
  const std::errc ec = parse(s, v);
  if (ec == std::errc::result_out_of_range && allow_nonfinite && overflows(s))
    return s[0] == '-' ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  if (ec == std::errc::result_out_of_range)
    throw std::runtime_error(rows.cell(c) + "out of range for " + dtype_name(dtype_of<T>()) + ": '" + s + "'");
  if (ec != std::errc()) throw std::runtime_error(rows.cell(c) + "not a number: '" + s + "'");
  if (!allow_nonfinite && !std::isfinite(v))
    throw std::runtime_error(rows.cell(c) + "not a finite number: '" + s + "' (allow_nonfinite: true takes it)");
  return v;
}

template <class V> Tensor tensor_of(std::vector<V>& values, std::vector<std::size_t> shape) {
  Tensor t = Tensor::zeros<V>(std::move(shape));
  std::copy(values.begin(), values.end(), t.data<V>());
  std::vector<V>().swap(values);  // freed before the next tensor is made
  return t;
}

// Every row from the current one on, each parsed straight into the columns' values: no row
// outlives its line, so memory is the values and their growth.
template <class T>
Outputs convert(Rows& rows, std::size_t cols, std::size_t first_line, long label, bool allow_nonfinite) {
  const std::size_t width = cols - (label >= 0);
  if (width == 0) throw std::runtime_error(rows.path + ": no columns besides the label");
  std::vector<T> xs;
  std::vector<std::int64_t> ys;
  std::size_t n = 0;
  do {
    if (rows.fields.size() != cols)
      throw std::runtime_error(rows.path + ":" + std::to_string(rows.lines.number()) + ": " +
                               std::to_string(rows.fields.size()) + " columns, but line " + std::to_string(first_line) +
                               " has " + std::to_string(cols));
    for (std::size_t c = 0; c < cols; ++c) {
      if (static_cast<long>(c) == label) ys.push_back(parse_label(rows, c));
      else xs.push_back(parse_value<T>(rows, c, allow_nonfinite));
    }
    ++n;
  } while (rows.next());
  Outputs out;  // the tensors moved in: an initializer list would copy them
  out["x"] = tensor_of(xs, {n, width});
  out["y"] = tensor_of(ys, {label >= 0 ? n : 0});
  return out;
}

std::vector<std::string> csv_files(const YAML::Node& params) { return {params["file"].as<std::string>()}; }

Outputs run(OpContext& ctx) {
  const std::string path = csv_files(ctx.params)[0];
  Rows rows(path);
  if (!rows.next()) throw std::runtime_error(path + ": empty file");
  const std::size_t cols = rows.fields.size(), first_line = rows.lines.number();
  const std::string h = ctx.string("header");
  const bool header =
      h == "true" || (h == "auto" && !std::all_of(rows.fields.begin(), rows.fields.end(), is_number));
  std::vector<std::string> names;
  if (header) {
    names = rows.fields;
    if (!rows.next()) throw std::runtime_error(path + ": no data rows after the header");
  }
  const long label = label_column(ctx.string("label"), path, names, cols, first_line, header);
  const bool allow = ctx.boolean("allow_nonfinite");
  return ctx.string("dtype") == "float64" ? convert<double>(rows, cols, first_line, label, allow)
                                          : convert<float>(rows, cols, first_line, label, allow);
}

}  // namespace

OpSchema load_csv_op() {
  OpSchema op;
  op.name = "load_csv";
  op.version = 2;  // 2: nan and inf refused unless allow_nonfinite
  op.doc =
      "A numeric CSV file: one row per sample, comma-separated, fields optionally in double quotes, blank lines "
      "skipped.\nA label column, when named, goes to y as int64. An error names the file, line and column (from 1) of "
      "the first bad field; nan and inf are bad fields unless allow_nonfinite. The file is read a line at a time "
      "(none longer than 16 MiB) and enters the cache key by content, not by path.";
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
  ParamSpec allow{"allow_nonfinite", ParamType::boolean,
                  "take nan, inf and values past dtype's range (as inf or -inf); false: each is an error", "false"};
  op.params = {file, header, label, dtype, allow};
  op.files = csv_files;
  op.run = run;
  return op;
}

}  // namespace untangle
