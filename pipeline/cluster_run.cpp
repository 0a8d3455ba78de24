// The cluster run: one driver thread follows the plan, submits each instance that is ready
// and must run to Slurm (in job arrays), runs light ops here, and learns what finished from
// one squeue call per round and from the cache. It holds no tensors of remote work.
#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <optional>
#include <random>

#include <oneapi/tbb/task_group.h>

#include "pipeline/atomic_file.h"
#include "pipeline/executor_impl.h"
#include "pipeline/resources.h"
#include "pipeline/slurm.h"

namespace untangle {

namespace {

using Clock = std::chrono::steady_clock;

std::string tail_of(const std::string& path, std::size_t n) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    lines.push_back(l);
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

struct Job {
  std::vector<std::size_t> instances;  // run one after another by the task
  std::string log;
  bool started = false;
  bool left_queue = false;
  Clock::time_point left_at;
  bool adopted = false;  // submitted by another run (or this run's predecessor, killed)
  std::string state;     // as squeue last showed it
};

// A claim is a cache's record that one job computes a key: `jobs/claims/<key>` holds
// "<task> <job name>", the task "-" while the job is being submitted. A driver that finds a
// live one waits for that job instead of submitting another (two drivers on one cache, or a
// driver started again after it was killed); one whose job is gone is released.
struct Claim {
  std::string task, job_name;
  double age = 0;  // seconds since it was written
};

std::optional<Claim> read_claim(const std::string& path) {
  std::ifstream in(path);
  Claim c;
  if (!(in >> c.task >> c.job_name)) return std::nullopt;
  std::error_code ec;
  const auto written = std::filesystem::last_write_time(path, ec);
  if (!ec) c.age = std::chrono::duration<double>(std::filesystem::file_time_type::clock::now() - written).count();
  return c;
}

// False when another driver holds the claim.
bool create_claim(const std::string& path, const std::string& job_name) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) return false;
  const std::string text = "- " + job_name + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

std::string job_marker_path(const Store& store, const std::string& key) { return store.root() + "/jobs/" + key + ".done"; }

RunReport Executor::run_on_cluster(const RunOptions& opts, const ClusterOptions& co) {
  Impl impl(plan_, store_, log_, status_, opts);
  Slurm slurm([this](const std::string& l) { log_(l); });
  const std::size_t n = plan_.instances.size();

  // One name for all of this run's jobs, so that one squeue call sees them all.
  std::random_device rd;
  char tag[16];
  std::snprintf(tag, sizeof tag, "%08x", rd());
  const std::string name = "untangle-" + std::string(tag);
  const std::string job_dir = store_.root() + "/jobs/" + name;
  const std::string claims = store_.root() + "/jobs/claims";
  make_directories(job_dir);
  make_directories(claims);
  auto claim_of = [&](std::size_t i) { return claims + "/" + impl.res[i].key; };
  std::set<std::string> names{name};  // of every job followed: this run's and adopted ones
  std::vector<int> attempts(n, 0);

  std::vector<std::size_t> waiting(n, 0);
  std::vector<std::vector<std::size_t>> downs(n);
  std::deque<std::size_t> ready;
  for (std::size_t i = 0; i < n; ++i) {
    std::set<std::size_t> ups;
    for (const auto& in : plan_.instances[i].inputs) ups.insert(in.from.begin(), in.from.end());
    waiting[i] = ups.size();
    for (auto u : ups) downs[u].push_back(i);
    if (ups.empty()) ready.push_back(i);
  }
  auto done = [&](std::size_t i) {
    if (impl.selected[i]) impl.finish(i);
    for (auto d : downs[i])
      if (--waiting[d] == 0) ready.push_back(d);
  };

  std::mutex m;
  std::condition_variable cv;
  std::deque<std::size_t> local_done;
  std::size_t local_running = 0;
  tbb::task_group local;

  std::map<std::string, Job> jobs;  // "123_4" → job
  std::mutex jobs_mutex;            // jobs' ids, for the interrupt hook
  std::vector<std::string> live_ids;
  set_interrupt_hook([&] {
    std::vector<std::string> ids;
    {
      std::lock_guard<std::mutex> lock(jobs_mutex);
      ids = live_ids;
    }
    slurm.cancel(ids);
  });
  struct Unhook {
    ~Unhook() { set_interrupt_hook(nullptr); }
  } unhook;

  std::size_t batches = 0;
  std::size_t remote = 0;  // instances in jobs not yet settled
  // A task per instance while that keeps the array small against what the cluster runs at once:
  // Slurm's records, logs and retries then speak of single instances, and one slow instance
  // holds back no other. A larger array's instances share tasks, each task computing its share
  // one after another in one process: every task costs Slurm a second or so to start and end,
  // and more than a few tasks per slot would only queue. A few per slot rather than one keeps
  // the cores busy when instances take unequal times.
  std::map<std::string, Slurm::Capacity> capacity;  // partition → its CPUs
  auto capacity_of = [&](const Resources& r) -> const Slurm::Capacity& {
    if (!capacity.count(r.partition)) capacity[r.partition] = slurm.capacity(r.partition);
    return capacity[r.partition];
  };
  std::size_t max_array = 0;  // tasks per array: ours, or fewer where the cluster says so
  auto array_limit = [&] {
    if (max_array == 0) {
      const std::size_t cluster = slurm.max_array_size();
      max_array = cluster ? std::min(co.max_array, cluster) : co.max_array;
    }
    return max_array;
  };
  auto slots_for = [&](const Resources& r) -> std::size_t {
    const std::size_t cpus = capacity_of(r).cpus;
    return cpus == 0 ? array_limit() : std::max<std::size_t>(1, cpus / static_cast<std::size_t>(std::max(1, r.cpus)));
  };
  auto tasks_max_for = [&](const Resources& r) { return std::min(array_limit(), co.tasks_per_slot * slots_for(r)); };
  // An array's batch script: each value a word of its own to sbatch and to bash.
  auto job_script = [&](const std::string& comment, const std::vector<std::string>& flags,
                        const std::vector<std::vector<std::size_t>>& bundle) {
    std::string script = "#!/bin/bash\n";
    for (const auto& a : {"--job-name=" + name, "--comment=" + comment, "--array=0-" + std::to_string(bundle.size() - 1),
                          "--output=" + job_dir + "/%A_%a.out"})
      script += "#SBATCH " + sbatch_word(a) + "\n";
    for (const auto& a : flags) script += "#SBATCH " + sbatch_word(a) + "\n";
    for (const auto& a : co.sbatch_args) script += "#SBATCH " + sbatch_word(a) + "\n";
    std::string command = "exec";
    for (const auto& a : co.job_command) command += " " + shell_quoted(a);
    script += "case \"$SLURM_ARRAY_TASK_ID\" in\n";
    for (std::size_t t = 0; t < bundle.size(); ++t) {
      script += std::to_string(t) + ") " + command;
      for (auto i : bundle[t]) {
        script += " \\\n  --instance " + shell_quoted(plan_.instances[i].name) + " --expect-key " + shell_quoted(impl.res[i].key);
        // --force reaches the job: there the entry is as cached as anywhere else.
        if (impl.forced[i]) script += " --force " + shell_quoted(plan_.instances[i].name);
      }
      script += " ;;\n";
    }
    return script + "esac\n";
  };
  auto submit = [&](const Resources& r, const std::vector<std::size_t>& list) {
    const std::vector<std::string> flags = sbatch_flags(r);
    const std::size_t tasks_max = tasks_max_for(r);
    for (std::size_t start = 0; start < list.size(); start += tasks_max * co.bundle_max) {
      const std::size_t count = std::min(tasks_max * co.bundle_max, list.size() - start);
      const std::size_t tasks = std::min(tasks_max, count);
      std::vector<std::vector<std::size_t>> bundle(tasks);
      for (std::size_t k = 0; k < count; ++k) bundle[k % tasks].push_back(list[start + k]);
      const std::string comment = name + "-" + std::to_string(batches++);
      std::string id;
      try {  // a value that cannot be a word of the script fails these instances, not the run
        const std::string path = job_dir + "/" + comment + ".sh";
        write_file_atomically(path, job_script(comment, flags, bundle));
        // A marker from an earlier attempt would speak for this one.
        for (std::size_t k = 0; k < count; ++k) std::filesystem::remove(job_marker_path(store_, impl.res[list[start + k]].key));
        id = slurm.submit(path, name, comment);
      } catch (const std::exception& e) {
        for (std::size_t k = 0; k < count; ++k) {
          std::filesystem::remove(claim_of(list[start + k]));
          impl.fail(list[start + k], e.what());
          done(list[start + k]);
        }
        continue;
      }
      std::lock_guard<std::mutex> lock(jobs_mutex);
      for (std::size_t t = 0; t < tasks; ++t) {
        const std::string task = id + "_" + std::to_string(t);
        jobs[task] = Job{bundle[t], job_dir + "/" + task + ".out", false, false, {}, false, ""};
        live_ids.push_back(task);
        for (auto i : bundle[t]) {
          write_file_atomically(claim_of(i), task + " " + name + "\n");
          impl.say("  queued  " + plan_.instances[i].name + "  [job " + task + "]");
        }
        remote += bundle[t].size();
      }
    }
  };

  // A job that left the queue: its entry says it ran; otherwise its marker or Slurm says why not.
  // What a job that left the queue comes to: its instance ran or failed (over), is to be
  // submitted again (again), or its result may still be on its way (wait).
  enum class End { wait, over, again };
  // True, and i reported as ran, when its entry is in the cache.
  auto found = [&](const std::string& task, const Job& job, std::size_t i) -> bool {
    NodeResult& r = impl.res[i];
    EntryInfo info;
    if (store_.lookup(r.key, &info) != Store::State::ok) return false;
    r.outcome = Outcome::ran;
    r.digests = info.digests;
    r.seconds = info.seconds;
    std::filesystem::remove(claim_of(i));
    impl.say("  ran     " + plan_.instances[i].name + "  " + seconds_text(info.seconds) + "  [job " + task +
             (job.adopted ? ", adopted" : "") + "]");
    return true;
  };
  auto conclude = [&](const std::string& task, Job& job, std::size_t i) -> End {
    if (found(task, job, i)) return End::over;
    const NodeResult& r = impl.res[i];
    std::ifstream marker(job_marker_path(store_, r.key));
    std::string status, message;
    const bool marked = static_cast<bool>(std::getline(marker, status));
    if (marked) std::getline(marker, message, '\0');
    const double waited = std::chrono::duration<double>(Clock::now() - job.left_at).count();
    // The shared file system may lag; but a job Slurm cancelled, timed out or killed wrote nothing.
    const bool could_have_written = job.state.empty() || job.state == "COMPLETED" || job.state == "FAILED";
    if (!marked && could_have_written && waited < co.fs_latency) return End::wait;
    std::filesystem::remove(claim_of(i));
    if (job.adopted) {  // another run's job, gone without a result: this run computes it
      impl.say("  lost    " + plan_.instances[i].name + "  [job " + task + " ended without a result; submitting again]");
      ready.push_back(i);
      return End::again;
    }
    const SlurmState st = slurm.final_state(task);
    std::string why = marked && !message.empty() ? message : "the job left no result";
    why += " [job " + task + (st.state.empty() ? "" : ", " + st.state) + "]";
    const std::string tail = tail_of(job.log, 20);
    // Without cgroups Slurm kills a job over its memory itself and calls it FAILED; its log says why.
    if (st.state == "OUT_OF_MEMORY" || tail.find("Exceeded job memory limit") != std::string::npos)
      why += " (out of memory: it asked for mem " + plan_.instances[i].resources.mem + "; raise resources.mem)";
    else if (st.state == "TIMEOUT")
      why += " (out of time: it asked for time " + plan_.instances[i].resources.time + "; raise resources.time)";
    else if (st.state == "NODE_FAIL")
      why += " (its node failed; --retries submits a job again)";
    else if (st.state == "PREEMPTED")
      why += " (preempted for a job of higher priority; --retries submits a job again)";
    else if (st.state == "CANCELLED")
      why += " (cancelled by scancel or the cluster's administrators)";
    if (!tail.empty() && !(marked && !message.empty())) why += "; the end of its log " + job.log + ":" + tail;
    if (attempts[i]++ < co.retries) {
      impl.say("  retry   " + plan_.instances[i].name + " (" + std::to_string(attempts[i]) + " of " +
               std::to_string(co.retries) + "): " + why);
      ready.push_back(i);
      return End::again;
    }
    impl.fail(i, why);
    return End::over;
  };

  double interval = co.poll_min;
  auto next_poll = Clock::now();
  auto last_change = Clock::now();
  std::deque<std::size_t> deferred;  // claimed by a driver that is submitting them
  while (true) {
    std::vector<std::size_t> to_submit;
    while (!ready.empty()) {
      const std::size_t i = ready.front();
      ready.pop_front();
      bool run = false;
      if (impl.inputs_usable(i)) try {
          run = !impl.cached(i, false) && impl.still_to_run(i);
        } catch (const std::exception& e) {
          impl.fail(i, e.what());
        }
      if (!run) {
        done(i);
      } else if (!plan_.instances[i].remote) {
        ++local_running;
        local.run([&, i] {
          impl.run_here(i);
          {
            std::lock_guard<std::mutex> lock(m);
            local_done.push_back(i);
          }
          cv.notify_one();
        });
      } else if (auto c = read_claim(claim_of(i))) {
        if (c->task == "-" && c->age < co.claim_wait) {
          deferred.push_back(i);  // another driver is submitting it right now
        } else if (c->task == "-") {
          std::filesystem::remove(claim_of(i));  // its driver died while submitting
          ready.push_back(i);
        } else {
          std::lock_guard<std::mutex> lock(jobs_mutex);
          jobs[c->task + "/" + std::to_string(i)] =  // a task of another run: followed for this instance only
              Job{{i}, store_.root() + "/jobs/" + c->job_name + "/" + c->task + ".out", false, false, {}, true, ""};
          names.insert(c->job_name);
          ++remote;
          impl.say("  waiting " + plan_.instances[i].name + "  [job " + c->task + ", submitted by another run or an earlier one]");
        }
      } else if (create_claim(claim_of(i), name)) {
        to_submit.push_back(i);
      } else {
        deferred.push_back(i);  // claimed meanwhile: looked at again next round
      }
    }
    if (!to_submit.empty()) {
      // One array per set of resources: instances that ask alike.
      std::map<std::vector<std::string>, std::vector<std::size_t>> alike;
      for (auto i : to_submit) alike[sbatch_flags(plan_.instances[i].resources)].push_back(i);
      for (const auto& [flags, list] : alike) {
        // More instances than slots run in waves. A last wave that cannot fill the cluster
        // would leave cores idle until it ends, so its instances ask for those cores (as many
        // as fit on one node) and end sooner: their results do not depend on their threads.
        // Slurm starts them last, after the array submitted before them. (GPU jobs' slots are
        // their GPUs: no cores to gain.)
        const Resources& r = plan_.instances[list.front()].resources;
        const std::size_t slots = slots_for(r), last = list.size() % slots;
        const std::size_t wider = last == 0 ? 1 : std::min(slots / last, capacity_of(r).node_cpus / std::max(1, r.cpus));
        if (list.size() > slots && list.size() <= tasks_max_for(r) && wider > 1 && r.gpus == 0) {
          Resources w = r;
          w.cpus = static_cast<int>(r.cpus * wider);
          const auto split = list.end() - static_cast<std::ptrdiff_t>(last);
          submit(r, std::vector<std::size_t>(list.begin(), split));
          submit(w, std::vector<std::size_t>(split, list.end()));
        } else {
          submit(r, list);
        }
      }
      interval = co.poll_min;  // new jobs: look soon, then back off again
      last_change = Clock::now();
      next_poll = std::min(next_poll, after(co.poll_min));
    }
    if (remote == 0 && local_running == 0 && ready.empty() && deferred.empty()) break;
    if (!ready.empty()) continue;  // dependents of instances whose submission failed: settled without waiting

    std::deque<std::size_t> finished_here;
    {
      std::unique_lock<std::mutex> lock(m);
      cv.wait_until(lock, remote || !deferred.empty() ? next_poll : Clock::now() + std::chrono::hours(1),
                    [&] { return !local_done.empty(); });
      finished_here.swap(local_done);
    }
    for (auto i : finished_here) {
      --local_running;
      done(i);
    }
    if (Clock::now() < next_poll) continue;
    ready.insert(ready.end(), deferred.begin(), deferred.end());
    deferred.clear();
    if (remote == 0) {
      next_poll = after(interval);
      continue;
    }

    bool changed = false;
    std::map<std::string, SlurmState> queue;
    try {
      queue = slurm.queue(std::vector<std::string>(names.begin(), names.end()));
    } catch (const std::exception& e) {
      log_("  warning " + std::string(e.what()));
      next_poll = after(interval);
      continue;
    }
    std::vector<std::pair<std::size_t, End>> settled;
    std::vector<std::string> finished;
    for (auto& [entry, job] : jobs) {
      const std::string task = entry.substr(0, entry.find('/'));  // adopted: "task/instance"
      const auto q = queue.find(task);
      const bool gone = q == queue.end() || slurm_final(q->second.state);
      if (q != queue.end()) job.state = q->second.state;
      if (!gone) {
        if (q->second.state == "RUNNING" && !job.started) {
          job.started = changed = true;
          for (auto i : job.instances) impl.say("  start   " + plan_.instances[i].name + "  [job " + task + "]");
        }
        // A task computing several instances: those it has finished can feed their dependents now.
        if (job.started && job.instances.size() > 1) {
          std::vector<std::size_t> open;
          for (auto i : job.instances) {
            if (found(task, job, i))
              settled.push_back({i, End::over});
            else
              open.push_back(i);
          }
          job.instances = open;
        }
        continue;
      }
      if (!job.left_queue) {
        job.left_queue = changed = true;
        job.left_at = Clock::now();
      }
      std::vector<std::size_t> open;
      for (auto i : job.instances) {
        const End e = conclude(task, job, i);
        if (e == End::wait) open.push_back(i);
        else settled.push_back({i, e});
      }
      job.instances = open;
      if (open.empty()) finished.push_back(entry);
    }
    for (const auto& entry : finished) {
      std::lock_guard<std::mutex> lock(jobs_mutex);
      jobs.erase(entry);
      const auto live = std::find(live_ids.begin(), live_ids.end(), entry);
      if (live != live_ids.end()) live_ids.erase(live);
    }
    for (const auto& [i, e] : settled) {
      --remote;
      changed = true;
      if (e == End::over) done(i);
    }
    // Back off while nothing changes, so a long sweep does not keep slurmctld busy; but never
    // wait more than a quarter of the time things have been still, so that short jobs are seen
    // to end soon after they do, and long ones cost a query a minute.
    if (changed) last_change = Clock::now();
    const double still = std::chrono::duration<double>(Clock::now() - last_change).count();
    interval = changed ? co.poll_min : std::min({co.poll_max, interval * 1.5, std::max(co.poll_min, still / 4)});
    next_poll = after(interval);
  }
  local.wait();
  return impl.report(opts);
}

}  // namespace untangle
