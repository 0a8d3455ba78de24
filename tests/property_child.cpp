// A run of the property test's ops that dies by SIGKILL part-way: at the start of its Nth op
// call, or after a delay, whichever comes first. It is a process of its own so that the kill
// is a real `kill -9`, and so that the test never forks a process that has TBB threads.
//
//   property_child GRAPH CACHE JOBS KILL_AT_CALL KILL_AFTER_US [KEY=VALUE]...
//
// KILL_AT_CALL or KILL_AFTER_US 0: no such trigger. Exits 0 if it finished first, 1 on error.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "pipeline/executor.h"
#include "tests/property_ops.h"

using namespace untangle;

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s GRAPH CACHE JOBS KILL_AT_CALL KILL_AFTER_US [KEY=VALUE]...\n", argv[0]);
    return 1;
  }
  try {
    const std::size_t jobs = std::stoul(argv[3]);
    static std::atomic<long> countdown{std::stol(argv[4])};
    const long after_us = std::stol(argv[5]);
    std::vector<Override> overrides;
    for (int i = 6; i < argc; ++i) overrides.push_back(parse_override(argv[i]));

    const Registry ops = test::property_registry([](const std::string&) {
      if (--countdown == 0) ::kill(::getpid(), SIGKILL);
    });
    if (after_us > 0)
      std::thread([after_us] {
        std::this_thread::sleep_for(std::chrono::microseconds(after_us));
        ::kill(::getpid(), SIGKILL);
      }).detach();

    const Plan plan = load_plan(argv[1], ops, overrides);
    Store store(argv[2]);
    RunOptions opts;
    opts.jobs = jobs;
    const RunReport r = Executor(plan, store, [](const std::string&) {}).run(opts);
    if (r.failed) {
      std::fprintf(stderr, "%s\n", r.summary().c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "property_child: %s\n", e.what());
    return 1;
  }
}
