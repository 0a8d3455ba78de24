#include "pipeline/slurm.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "pipeline/process.h"

namespace untangle {

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

std::vector<std::string> fields(const std::string& line, char sep = '|') {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto end = line.find(sep, start);
    out.push_back(line.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// "CANCELLED by 0" → "CANCELLED"
std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

}  // namespace

bool slurm_final(const std::string& state) {
  for (const char* s : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED",
                        "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED"})
    if (state == s) return true;
  return false;
}

std::string shell_quoted(const std::string& s) {
  const std::string_view plain = "_-+=.,/:@%";
  if (!s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || plain.find(c) != std::string_view::npos;
      }))
    return s;
  // sbatch reads a backslash as an escape even between single quotes: it stays outside them,
  // escaped, as a quote does, which means the same to bash.
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else if (c == '\\') q += "'\\\\'";
    else q += c;
  }
  return q + "'";
}

std::string control_character(const std::string& s) {
  for (unsigned char c : s) {
    if (c == '\n') return "a newline";
    if (c == '\r') return "a carriage return";
    if (c == '\t') return "a tab";
    if (c < 0x20 || c == 0x7f) {
      char name[32];
      std::snprintf(name, sizeof name, "control character 0x%02x", c);
      return name;
    }
  }
  return "";
}

std::string escaped(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
    else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

std::string sbatch_word(const std::string& flag) {
  const std::string what = control_character(flag);
  if (!what.empty()) throw std::invalid_argument("an #SBATCH line cannot hold " + what + ", got '" + escaped(flag) + "'");
  const auto eq = flag.find('=');
  if (eq == std::string::npos) return shell_quoted(flag);
  return shell_quoted(flag.substr(0, eq)) + "=" + shell_quoted(flag.substr(eq + 1));
}

std::string slurm_arg_problem(const std::string& arg) {
  const std::string what = control_character(arg);
  if (!what.empty()) return "must not hold " + what + ", got '" + escaped(arg) + "'";
  const std::string name = arg.substr(0, arg.find('='));
  const auto option_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  if (name.size() < 3 || name.compare(0, 2, "--") != 0 || !(name[2] >= 'a' && name[2] <= 'z') ||
      !std::all_of(name.begin(), name.end(), option_char))
    return "must be one sbatch flag in its long form, --name or --name=value (--account=lab, not -A lab), got '" + arg + "'";
  // The driver finds its jobs by name and comment, reads their logs where --output puts them and
  // writes the array and the script; sbatch takes any unambiguous prefix of a long option.
  for (const std::string own : {"array", "comment", "job-name", "output", "wrap"})
    if (own.rfind(name.substr(2), 0) == 0) return "untangle sets --" + own + " itself, got '" + arg + "'";
  return "";
}

Slurm::Slurm(std::function<void(const std::string&)> warn) : warn_(std::move(warn)) {}

std::string Slurm::missing_command() {
  for (const char* c : {"sbatch", "squeue", "scontrol", "scancel"})
    if (!on_path(c)) return c;
  return "";
}

std::string Slurm::unreachable() {
  Result r = call({"squeue", "-h", "--name=untangle-check"}, 1);
  if (r.ok) return "";
  const auto l = lines(r.err);
  return l.empty() ? "squeue failed" : l.back();
}

std::vector<std::string> Slurm::clean_environment() {
  return environment({}, [](const std::string& name) { return name.rfind("SLURM_", 0) == 0 && name != "SLURM_CONF"; });
}

Slurm::Result Slurm::call(const std::vector<std::string>& argv, int attempts) {
  Result r;
  double wait = 1;
  for (int a = 1;; ++a) {
    r.out.clear();
    r.err.clear();
    ProcessSpec spec{argv, clean_environment(), "", 120.0, nullptr, nullptr, nullptr};
    spec.on_stdout = [&](const std::string& l) { r.out += l + "\n"; };
    spec.on_stderr = [&](const std::string& l) { r.err += l + "\n"; };
    const ProcessEnd end = run_process(spec);
    r.ok = end.exited_ok();
    if (r.ok || a >= attempts) {
      if (!r.ok && r.err.empty()) r.err = end.timed_out ? argv[0] + " timed out\n" : end.describe(argv[0]) + "\n";
      return r;
    }
    warn_("  warning " + argv[0] + " failed (" + (r.err.empty() ? end.describe(argv[0]) : lines(r.err).back()) +
          "); trying again in " + std::to_string(static_cast<int>(wait)) + " s");
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    wait = std::min(wait * 2, 30.0);
  }
}

std::string Slurm::submit(const std::string& script, const std::string& name, const std::string& comment) {
  for (int a = 1;; ++a) {
    Result r = call({"sbatch", "--parsable", script}, 1);
    if (r.ok) {
      const auto l = lines(r.out);
      if (!l.empty()) return fields(l.back(), ';')[0];  // "id" or "id;cluster"
    }
    // Did it submit after all (a reply lost to a time-out)?
    for (const auto& [id, st] : queue({name}))
      if (st.reason == comment) return id.substr(0, id.find('_'));
    if (a >= 4) throw std::runtime_error("sbatch failed: " + (r.err.empty() ? std::string("no job id") : r.err));
    warn_("  warning sbatch failed (" + (lines(r.err).empty() ? "no job id" : lines(r.err).back()) + "); trying again");
    std::this_thread::sleep_for(std::chrono::seconds(a));
  }
}

std::map<std::string, SlurmState> Slurm::queue(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
  // %k, the comment, carries the batch a job came from; for the check after a failed sbatch.
  Result r = call({"squeue", "-h", "-r", "--name=" + list, "-o", "%i|%T|%k|%r"}, 6);
  if (!r.ok) throw std::runtime_error("squeue failed: " + r.err);
  std::map<std::string, SlurmState> jobs;
  for (const auto& l : lines(r.out)) {
    const auto f = fields(l);
    if (f.size() >= 3) jobs[f[0]] = {f[1], f[2]};
  }
  return jobs;
}

SlurmState Slurm::final_state(const std::string& id) {
  if (on_path("sacct")) {
    // --starttime: without it sacct shows only jobs of today; -X: the job, not its steps.
    Result r = call({"sacct", "-n", "-X", "-P", "--starttime=now-30days", "-j", id, "-o", "JobID,State,ExitCode"}, 1);
    if (r.ok)
      for (const auto& l : lines(r.out)) {
        const auto f = fields(l);
        if (f.size() >= 3 && f[0] == id) return {first_word(f[1]), f[2]};
      }
  }
  Result r = call({"scontrol", "show", "job", id, "-o"}, 2);
  if (r.ok) {
    SlurmState s;
    std::istringstream in(r.out);
    for (std::string kv; in >> kv;) {
      if (kv.rfind("JobState=", 0) == 0) s.state = kv.substr(9);
      if (kv.rfind("ExitCode=", 0) == 0) s.reason = kv.substr(9);
    }
    return s;
  }
  return {};
}

Slurm::Capacity Slurm::capacity(const std::string& partition) {
  // One line per node and partition; a node in several partitions counts once. Without a
  // partition, jobs go to the default one, which sinfo marks with a '*'.
  std::vector<std::string> argv{"sinfo", "-h", "-N", "-o", "%N|%c|%P"};
  if (!partition.empty()) argv.insert(argv.begin() + 1, "--partition=" + partition);
  Result r = call(argv, 2);
  if (!r.ok) return {};
  std::map<std::string, std::size_t> nodes, in_default;
  for (const auto& l : lines(r.out)) {
    const auto f = fields(l);
    if (f.size() != 3) continue;
    const std::size_t cpus = std::strtoul(f[1].c_str(), nullptr, 10);
    nodes[f[0]] = cpus;
    if (!f[2].empty() && f[2].back() == '*') in_default[f[0]] = cpus;
  }
  Capacity c;
  for (const auto& [node, cpus] : partition.empty() && !in_default.empty() ? in_default : nodes) {
    c.cpus += cpus;
    c.node_cpus = std::max(c.node_cpus, cpus);
  }
  return c;
}

std::size_t Slurm::max_array_size() {
  Result r = call({"scontrol", "show", "config"}, 1);  // once: without an answer, untangle's own limit serves
  if (!r.ok) return 0;
  for (const auto& l : lines(r.out))  // "MaxArraySize            = 1001"
    if (l.rfind("MaxArraySize", 0) == 0 && l.find('=') != std::string::npos)
      return std::strtoul(l.c_str() + l.find('=') + 1, nullptr, 10);
  return 0;
}

void Slurm::cancel(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::vector<std::string> argv{"scancel"};
  argv.insert(argv.end(), ids.begin(), ids.end());
  call(argv, 3);
}

}  // namespace untangle
