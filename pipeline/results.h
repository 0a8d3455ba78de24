// What a run leaves for people, outside the cache: file outputs (figures) copied to a results
// directory under readable names, and text outputs (summary tables) to show. The cache stays
// the one source of truth; these are copies, rewritten only when their content changes.
#pragma once
#include <string>
#include <vector>

#include "pipeline/executor.h"

namespace untangle {

struct Results {
  std::vector<std::string> files;                            // paths written or already up to date
  std::vector<std::pair<std::string, std::string>> texts;  // (instance.port, text)
};

// For every instance that ran or was found cached: each output port marked `file` goes to
// dir/<instance>.<ext>; each marked `print` is returned as text (string elements, one per line).
Results collect_results(const Plan& plan, const Store& store, const RunReport& report, const std::string& dir);

// results/<graph name>: where `untangle run` puts a graph's files by default.
std::string default_results_dir(const Plan& plan);

}  // namespace untangle
