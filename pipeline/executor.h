// Runs a plan. Each instance becomes a node of a tbb::flow::graph wired like the plan, so
// independent instances run at the same time; a job limit bounds how many ops run at once
// without idling threads. Whether an instance runs is decided by its key: op, version,
// params and the content digests of everything it reads.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pipeline/plan.h"
#include "pipeline/store.h"

namespace untangle {

struct RunOptions {
  std::size_t jobs = 0;             // ops running at once; 0: one per core
  std::vector<std::string> force;   // nodes or instances to rerun even when cached
  std::vector<std::string> only;    // run just these and what they need
};

enum class Outcome { stale, cached, ran, failed, skipped, excluded };
const char* outcome_name(Outcome o);

struct NodeResult {
  Outcome outcome = Outcome::stale;
  std::string key;                             // empty while an input is stale
  std::map<std::string, std::string> digests;  // output port → content digest
  double seconds = 0;
  std::string error;
};

struct RunReport {
  std::vector<NodeResult> nodes;  // parallel to plan.instances
  std::size_t ran = 0, cached = 0, failed = 0, skipped = 0;
  std::string summary() const;  // "done: 3 ran, 2 cached, 0 failed"
};

using LogFn = std::function<void(const std::string& line)>;

// Running on a Slurm cluster: instances go to jobs that run `untangle job` on a compute node
// against the same cache, a shared file system being the only channel between machines.
struct ClusterOptions {
  // The command a job runs for one instance, to which `--instance NAME --expect-key KEY` is
  // appended: {untangle, job, GRAPH, --cache, DIR, --set …, --plugin …}.
  std::vector<std::string> job_command;
  std::vector<std::string> sbatch_args;  // --slurm-arg: flags for every sbatch
  double poll_min = 0.5, poll_max = 60;  // seconds between status queries; backs off while nothing changes
  double fs_latency = 30;                // how long a finished job's entry may take to be seen here
  std::size_t max_array = 1000;          // tasks per job array
  std::size_t bundle_max = 1000;         // instances one task computes, at the most
  // An array gets a task per instance up to this many tasks per slot (the jobs of its size the
  // cluster runs at once); past that, its instances share tasks.
  std::size_t tasks_per_slot = 4;
  int retries = 0;                       // times a failed job is submitted again
  double claim_wait = 60;                // a claim without a job older than this is abandoned
};

// Where a cluster job leaves its exit status and message once its instance's entry is
// written: "0", or "1" and a line of why.
std::string job_marker_path(const Store& store, const std::string& key);

class Executor {
 public:
  // log receives lines to keep; status, when given, transient progress to show in place of
  // the previous one (a terminal's live line). Without it, progress comes as occasional lines.
  Executor(const Plan& plan, Store& store, LogFn log, LogFn status = nullptr);

  // Decides, without running anything, which instances are cached and which would run.
  std::vector<NodeResult> status(const RunOptions& opts = {});
  RunReport run(const RunOptions& opts);
  // The same through Slurm: light ops (OpSchema::light) run here, the others in jobs.
  RunReport run_on_cluster(const RunOptions& opts, const ClusterOptions& cluster);

 private:
  struct Impl;
  const Plan& plan_;
  Store& store_;
  LogFn log_, status_;
};

}  // namespace untangle
