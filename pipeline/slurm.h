// Slurm through its own commands (sbatch, squeue, sacct, scontrol, scancel), as much of it as
// the cluster executor needs. Every call is a child process; transient failures (a busy
// slurmctld timing out) are retried with back-off.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace untangle {

struct SlurmState {
  std::string state;   // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, …
  std::string reason;  // squeue's reason, or sacct's exit code "1:0"
};

class Slurm {
 public:
  // warn receives a line for each retried call.
  explicit Slurm(std::function<void(const std::string&)> warn);

  // The first Slurm command missing from PATH, or "".
  static std::string missing_command();

  // Why the cluster does not answer (no configuration, slurmctld down), or "" when it does.
  std::string unreachable();

  // Submits a batch script; returns the job id. An sbatch that fails ambiguously (it may have
  // submitted) is checked by the job's name and comment before it is tried again.
  std::string submit(const std::string& script, const std::string& name, const std::string& comment);

  // One call for all jobs of these names: array tasks one by one ("123_4"), as squeue knows them.
  std::map<std::string, SlurmState> queue(const std::vector<std::string>& names);

  // A job that has left the queue: sacct where accounting runs, else scontrol; state "" when
  // neither knows it any more.
  SlurmState final_state(const std::string& id);

  void cancel(const std::vector<std::string>& ids);

  // The CPUs of a partition's nodes (the default partition's when empty), in all and on its
  // largest node; zeros when sinfo cannot say.
  struct Capacity {
    std::size_t cpus = 0, node_cpus = 0;
  };
  Capacity capacity(const std::string& partition);

  // Slurm's MaxArraySize (a job array's indices stay below it); 0 when scontrol cannot say.
  std::size_t max_array_size();

  // The environment for Slurm's commands: untangle's without SLURM_* (a driver inside an
  // allocation must not pass its own allocation on to the jobs it submits), SLURM_CONF kept.
  static std::vector<std::string> clean_environment();

 private:
  struct Result {
    bool ok = false;
    std::string out, err;
  };
  Result call(const std::vector<std::string>& argv, int attempts);
  std::function<void(const std::string&)> warn_;
};

// States in which a job will not run again by itself.
bool slurm_final(const std::string& state);

// s as one word to bash and to sbatch's reading of #SBATCH lines: bare when it holds only
// characters that neither gives a meaning to, else in single quotes.
std::string shell_quoted(const std::string& s);

// The first control character in s named ("a newline", "control character 0x1b"), or "".
std::string control_character(const std::string& s);
// s with its control characters written as C escapes, for a message on one line.
std::string escaped(const std::string& s);

// A flag "--name=value" or "--name" as one word of an #SBATCH line or a command line. A control
// character is std::invalid_argument: a newline would end the #SBATCH line and make the rest a
// command of the script.
std::string sbatch_word(const std::string& flag);

// Why a --slurm-arg is not one long sbatch flag that untangle leaves to its user, or "".
std::string slurm_arg_problem(const std::string& arg);

}  // namespace untangle
