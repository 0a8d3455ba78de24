// Child processes: a program run with its output read line by line as it comes, in a process
// group of its own that a timeout or an interrupt of untangle kills whole (atomic_file.h). Used
// by exec for users' programs and by the cluster executor for Slurm's commands.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace untangle {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH
  std::vector<std::string> env;   // "NAME=value" each; see environment()
  std::string cwd;                // empty: untangle's own
  std::optional<double> timeout;  // seconds; none: wait for ever
  std::function<void(const std::string& line)> on_stdout, on_stderr;
  // When set, standard output comes here as it arrives, bytes not lines (on_stdout is not called).
  std::function<void(const char* data, std::size_t size)> on_stdout_bytes;
};

struct ProcessEnd {
  int status = 0;  // as waitpid gives it
  bool timed_out = false;
  bool exited_ok() const;  // exited, status 0, in time
  std::string describe(const std::string& who) const;  // "X exited with status 3", "…killed by signal 9 (Killed)"
};

// Throws std::runtime_error when the program cannot be started (say, it is not on PATH).
ProcessEnd run_process(const ProcessSpec& spec);

// untangle's environment with `set` added or replaced and the variables `drop` says yes to left out.
std::vector<std::string> environment(const std::map<std::string, std::string>& set,
                                     const std::function<bool(const std::string& name)>& drop = nullptr);

// Whether a program of that name is on PATH (or is an executable path).
bool on_path(const std::string& program);

}  // namespace untangle
