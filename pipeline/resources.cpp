#include "pipeline/resources.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "pipeline/slurm.h"

namespace untangle {

std::optional<double> duration_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  const char* at = text.data();
  const char* const end = at + text.size();
  while (at < end) {
    // Digits only, and more of them than 64 bits hold is no duration: nothing here may throw.
    std::uint64_t n = 0;
    const auto [unit, ec] = std::from_chars(at, end, n);
    if (ec != std::errc() || unit == end) return std::nullopt;
    if (*unit == 's') total += n;
    else if (*unit == 'm') total += 60.0 * n;
    else if (*unit == 'h') total += 3600.0 * n;
    else if (*unit == 'd') total += 86400.0 * n;
    else return std::nullopt;
    at = unit + 1;
  }
  return total;
}

namespace {

// Slurm's memory form: a whole number with an optional K, M, G or T.
bool memory_text(const std::string& s) {
  std::size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0) return false;
  return digits == s.size() || (digits + 1 == s.size() && std::string("KMGT").find(s.back()) != std::string::npos);
}

// A partition's name: letters, digits, _, - and ., as sites name them; a shell would read more.
bool partition_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// The grammar of each text key: the rest of an error message, or "".
std::string memory_problem(const std::string& s) {
  return memory_text(s) ? "" : "must be an amount of memory like 500M or 4G, got '" + s + "'";
}

std::string time_problem(const std::string& s) {
  // A year is beyond any cluster's MaxTime, and keeps the minutes sbatch is given far from overflow.
  const auto seconds = duration_seconds(s);
  if (!seconds || *seconds <= 0) return "must be a duration like 30m, 2h or 1h30m, got '" + s + "'";
  return *seconds > 365 * 86400.0 ? "must be at most 365d, got '" + s + "'" : "";
}

// Empty leaves the choice to the cluster, so that a node can undo its graph's partition; Slurm
// takes a list of partitions, a,b, and starts the job in whichever can run it first.
std::string partition_problem(const std::string& s) {
  for (std::size_t start = 0; !s.empty();) {
    const auto comma = s.find(',', start);
    if (!partition_name(s.substr(start, comma - start)))
      return "must be a partition or a comma-separated list of them (letters, digits, _, - and .), got '" + s + "'";
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

// A key of text that `problem` checks. Control characters come first: one would end an #SBATCH
// line, and the message shows them escaped.
ParamSpec text_key(const char* name, const char* doc, std::string (*problem)(const std::string&)) {
  ParamSpec spec{name, ParamType::string, doc, std::nullopt};
  spec.check = [problem](const YAML::Node& v) {
    const std::string s = v.as<std::string>();
    const std::string what = control_character(s);
    return what.empty() ? problem(s) : "must not hold " + what + ", got '" + escaped(s) + "'";
  };
  return spec;
}

ParamSpec make_spec() {
  // Slurm counts a job's CPUs per task in 16 bits, 0xfffe and up meaning none given; no node
  // has as many GPUs.
  constexpr double kMaxCount = 65533;
  ParamSpec cpus{"cpus", ParamType::integer, "cores for the job (its op's threads)", std::nullopt};
  cpus.min = 1;
  cpus.max = kMaxCount;
  const ParamSpec mem = text_key("mem", "memory, as Slurm writes it: 500M, 4G", memory_problem);
  const ParamSpec time = text_key("time", "the job's time limit: 30m, 2h, 1h30m", time_problem);
  const ParamSpec partition =
      text_key("partition", "the Slurm partition, or a list of them (a,b); empty: the cluster's default", partition_problem);
  ParamSpec gpus{"gpus", ParamType::integer, "GPUs for the job", std::nullopt};
  gpus.min = 0;
  gpus.max = kMaxCount;
  ParamSpec spec{"resources", ParamType::record, "what a cluster job asks Slurm for", "{}"};
  spec.fields = {cpus, mem, time, partition, gpus};
  for (auto& f : spec.fields) f.optional = true;
  return spec;
}

}  // namespace

const ParamSpec& resources_spec() {
  static const ParamSpec spec = make_spec();
  return spec;
}

Resources with_resources(Resources r, const YAML::Node& given) {
  if (!given || !given.IsMap()) return r;
  if (given["cpus"]) r.cpus = given["cpus"].as<int>();
  if (given["mem"]) r.mem = given["mem"].as<std::string>();
  if (given["time"]) r.time = given["time"].as<std::string>();
  if (given["partition"]) r.partition = given["partition"].as<std::string>();
  if (given["gpus"]) r.gpus = given["gpus"].as<int>();
  return r;
}

std::vector<std::string> sbatch_flags(const Resources& r) {
  std::vector<std::string> f{"--cpus-per-task=" + std::to_string(r.cpus), "--mem=" + r.mem};
  const double seconds = duration_seconds(r.time).value_or(1800);
  f.push_back("--time=" + std::to_string(static_cast<long>(std::ceil(seconds / 60))));
  if (!r.partition.empty()) f.push_back("--partition=" + r.partition);
  if (r.gpus > 0) f.push_back("--gres=gpu:" + std::to_string(r.gpus));
  return f;
}

}  // namespace untangle
