#include "pipeline/executor.h"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>

#include "pipeline/executor_impl.h"

namespace untangle {

namespace {

// oneTBB's library is not built with ThreadSanitizer, so TSan cannot see that a flow-graph node
// starts only after the nodes it reads have finished, and reports their results as races.
// These state that order; outside a TSan build they are nothing.
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
void publish(const void* p) { __tsan_release(const_cast<void*>(p)); }
void receive(const void* p) { __tsan_acquire(const_cast<void*>(p)); }
#else
void publish(const void*) {}
void receive(const void*) {}
#endif
// What run() set up before the first node starts, the nodes' bodies included: a node reads
// its own captures, so this order is stated on an address that needs none.
char run_set_up;

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::stale: return "stale";
    case Outcome::cached: return "cached";
    case Outcome::ran: return "ran";
    case Outcome::failed: return "failed";
    case Outcome::skipped: return "skipped";
    case Outcome::excluded: return "excluded";
  }
  return "?";
}

std::string RunReport::summary() const {
  std::string s = "done: " + std::to_string(ran) + " ran, " + std::to_string(cached) + " cached, " +
                  std::to_string(failed) + " failed";
  if (failed || skipped) s += ", " + std::to_string(skipped) + " skipped";
  return s;
}

Executor::Executor(const Plan& plan, Store& store, LogFn log, LogFn status)
    : plan_(plan), store_(store), log_(std::move(log)), status_(std::move(status)) {}

std::vector<NodeResult> Executor::status(const RunOptions& opts) {
  Impl impl(plan_, store_, log_, nullptr, opts);
  for (std::size_t i = 0; i < plan_.instances.size(); ++i) {
    if (!impl.selected[i]) {
      impl.res[i].outcome = Outcome::excluded;
      continue;
    }
    impl.resolve(i, false);
  }
  return impl.res;
}

RunReport Executor::run(const RunOptions& opts) {
  Impl impl(plan_, store_, log_, status_, opts);
  const std::size_t n = plan_.instances.size();
  Slots slots(opts.jobs ? opts.jobs : static_cast<std::size_t>(tbb::info::default_concurrency()));

  tbb::flow::graph g;
  std::vector<std::unique_ptr<tbb::flow::continue_node<tbb::flow::continue_msg>>> nodes;
  nodes.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    nodes.emplace_back(new tbb::flow::continue_node<tbb::flow::continue_msg>(
        g, [&impl, &slots, i](const tbb::flow::continue_msg&) {
          receive(&run_set_up);
          for (const auto& in : impl.plan.instances[i].inputs)
            for (auto j : in.from) receive(&impl.res[j]);
          impl.body(i, slots);
          publish(&impl.res[i]);
        }));
  std::vector<std::size_t> sources;
  for (std::size_t i = 0; i < n; ++i) {
    std::set<std::size_t> ups;
    for (const auto& in : plan_.instances[i].inputs) ups.insert(in.from.begin(), in.from.end());
    for (auto u : ups) tbb::flow::make_edge(*nodes[u], *nodes[i]);
    if (ups.empty()) sources.push_back(i);
  }
  publish(&run_set_up);
  for (auto i : sources) nodes[i]->try_put(tbb::flow::continue_msg());
  g.wait_for_all();
  for (const auto& r : impl.res) receive(&r);
  impl.fold_recomputes();

  return impl.report(opts);
}

}  // namespace untangle
