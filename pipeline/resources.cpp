#include "pipeline/resources.h"

#include <cctype>
#include <cmath>

namespace untangle {

std::optional<double> duration_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = pos;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end == pos || end == text.size()) return std::nullopt;
    const double n = std::stod(text.substr(pos, end - pos));
    const char unit = text[end];
    if (unit == 's') total += n;
    else if (unit == 'm') total += 60 * n;
    else if (unit == 'h') total += 3600 * n;
    else if (unit == 'd') total += 86400 * n;
    else return std::nullopt;
    pos = end + 1;
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

ParamSpec make_spec() {
  ParamSpec cpus{"cpus", ParamType::integer, "cores for the job (its op's threads)", std::nullopt};
  cpus.min = 1;
  ParamSpec mem{"mem", ParamType::string, "memory, as Slurm writes it: 500M, 4G", std::nullopt};
  mem.check = [](const YAML::Node& v) {
    return memory_text(v.as<std::string>()) ? "" : "must be an amount of memory like 500M or 4G, got '" + v.as<std::string>() + "'";
  };
  ParamSpec time{"time", ParamType::string, "the job's time limit: 30m, 2h, 1h30m", std::nullopt};
  time.check = [](const YAML::Node& v) {
    const auto s = duration_seconds(v.as<std::string>());
    return s && *s > 0 ? "" : "must be a duration like 30m, 2h or 1h30m, got '" + v.as<std::string>() + "'";
  };
  ParamSpec partition{"partition", ParamType::string, "the Slurm partition; empty: the cluster's default", std::nullopt};
  ParamSpec gpus{"gpus", ParamType::integer, "GPUs for the job", std::nullopt};
  gpus.min = 0;
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
