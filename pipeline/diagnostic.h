// Errors that point into a graph file, printed the way compilers print them so editors and
// terminals can jump to FILE:LINE:COL.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace untangle {

struct Loc {
  std::string file;
  int line = 0;  // 1-based; 0 when the error has no position (e.g. a --set argument)
  int col = 0;
};

struct Diagnostic {
  Loc loc;
  std::string message;
  std::string str() const {
    std::string where = loc.file;
    if (loc.line > 0) where += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
    return where + ": error: " + message;
  }
};

using Diagnostics = std::vector<Diagnostic>;

// Thrown when a graph cannot be used; carries every problem found, not just the first.
struct GraphError : std::runtime_error {
  explicit GraphError(Diagnostics d)
      : std::runtime_error(d.empty() ? "invalid graph" : d.front().str()), diagnostics(std::move(d)) {}
  Diagnostics diagnostics;
};

}  // namespace untangle
