// Small shared pieces of the test suites: scratch directories and files.
#pragma once
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
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

// Every file under dir with its size and a hash of its bytes, one line each in path order:
// equal listings mean an unchanged tree (say, a cache a failed run must leave alone).
inline std::string tree_listing(const std::string& dir) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec))
    if (it->is_regular_file()) {
      const std::string bytes = read_file(it->path().string());
      lines.push_back(std::filesystem::relative(it->path(), dir).string() + " " + std::to_string(bytes.size()) + " " +
                      std::to_string(std::hash<std::string>()(bytes)));
    }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace untangle::test
