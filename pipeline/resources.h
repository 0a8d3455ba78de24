// Resources of cluster jobs as a graph writes them: `resources: {cpus: 2, mem: 4G, time: 30m,
// partition: gpu, gpus: 1}` at the top of a graph (for all its nodes) or on a node, checked
// like params so that a mistake is an error at its place in the file, and turned into sbatch's
// flags. Each value has its own grammar (Slurm's partition names, sizes, times, counts), so
// none can carry anything else into a job script. They never enter a key: where and with how
// many cores an op runs does not change what it computes. Who pays and at what priority
// (--account, --qos) belong to whoever runs the graph, not to the graph or its ops: --slurm-arg.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "pipeline/schema.h"

namespace untangle {

// A record of optional keys: cpus, mem, time, partition, gpus.
const ParamSpec& resources_spec();

// `base` with the keys that `given` (canonical under resources_spec) sets.
Resources with_resources(Resources base, const YAML::Node& given);

// --cpus-per-task=2 --mem=4G --time=30 …, the time rounded up to whole minutes (Slurm's unit).
std::vector<std::string> sbatch_flags(const Resources& r);

// Seconds in "90s", "10m", "2h", "1h30m"; none for "", a number past 64 bits or anything else.
std::optional<double> duration_seconds(const std::string& text);

}  // namespace untangle
