// Small shared pieces of the test suites: scratch directories and files.
#pragma once
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <vector>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace untangle::test {

// A fresh directory under the system temp dir (or `base`), removed with everything in it.
struct TempDir {
  std::string path;
  explicit TempDir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
    std::string tmpl = (base / "untangle-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace untangle::test

#include <sys/wait.h>

namespace untangle::test {

struct CommandResult {
  int code = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// Runs a shell command, capturing stdout and stderr separately.
inline CommandResult run_command(const std::string& command) {
  TempDir io;
  const std::string full = "(" + command + ") >" + (io / "out") + " 2>" + (io / "err") + " </dev/null";
  const int status = std::system(full.c_str());
  CommandResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(io / "out");
  r.err = read_file(io / "err");
  return r;
}

inline std::string last_line(const std::string& text);

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

inline std::string last_line(const std::string& text) {
  auto lines = lines_of(text);
  return lines.empty() ? std::string() : lines.back();
}

// The nodes a run's output says ran, sorted.
inline std::vector<std::string> ran(const std::string& out) {
  std::vector<std::string> names;
  for (const auto& l : lines_of(out))
    if (l.rfind("  ran     ", 0) == 0) names.push_back(l.substr(10, l.find("  ", 10) - 10));
  std::sort(names.begin(), names.end());
  return names;
}

// Every file under dir: relative path → size and a hash of its bytes. Equal snapshots mean an
// unchanged tree (say, a cache a failed run must leave alone).
using Snapshot = std::map<std::string, std::string>;

inline Snapshot snapshot(const std::string& dir) {
  Snapshot s;
  if (!std::filesystem::exists(dir)) return s;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (!e.is_directory()) {
      const std::string bytes = read_file(e.path().string());
      s[std::filesystem::relative(e.path(), dir).string()] =
          std::to_string(bytes.size()) + " " + std::to_string(std::hash<std::string>()(bytes));
    }
  return s;
}

// What differs between two snapshots, one line per file; empty when they are equal.
inline std::string difference(const Snapshot& before, const Snapshot& after) {
  std::string d;
  for (const auto& [path, what] : before) {
    const auto it = after.find(path);
    if (it == after.end()) d += "removed " + path + "\n";
    else if (it->second != what) d += "changed " + path + "\n";
  }
  for (const auto& [path, what] : after)
    if (!before.count(path)) d += "added " + path + "\n";
  return d;
}

}  // namespace untangle::test
