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

class Executor {
 public:
  // log receives lines to keep; status, when given, transient progress to show in place of
  // the previous one (a terminal's live line). Without it, progress comes as occasional lines.
  Executor(const Plan& plan, Store& store, LogFn log, LogFn status = nullptr);

  // Decides, without running anything, which instances are cached and which would run.
  std::vector<NodeResult> status(const RunOptions& opts = {});
  RunReport run(const RunOptions& opts);

 private:
  struct Impl;
  const Plan& plan_;
  Store& store_;
  LogFn log_, status_;
};

}  // namespace untangle
