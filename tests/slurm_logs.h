// Reading a cluster run's log and job logs, for the Slurm executor's tests.
#pragma once
#include <filesystem>
#include <string>

#include "tests/helpers.h"

namespace untangle::test {

inline std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The job the log's `verb` line names for an instance: "  queued  NAME  [job 3_1]" → "3_1";
// "" without such a line.
inline std::string task_of(const std::string& log, const std::string& verb, const std::string& name) {
  std::string line = "  " + verb;
  line.resize(10, ' ');
  line += name + "  [job ";
  const auto at = log.find(line);
  if (at == std::string::npos) return "";
  const auto from = at + line.size();
  return log.substr(from, log.find(']', from) - from);
}

// The output of one job task, kept under the cache's jobs/ directory; "" when there is none.
inline std::string job_log(const std::string& cache, const std::string& task) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(cache + "/jobs"))
    if (e.path().filename() == task + ".out") return read_file(e.path().string());
  return "";
}

}  // namespace untangle::test
