#include "pipeline/cli.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include "pipeline/atomic_file.h"
#include "pipeline/executor.h"
#include "pipeline/plugin_loader.h"
#include "pipeline/resources.h"
#include "pipeline/results.h"
#include "pipeline/slurm.h"

namespace untangle {

namespace {

struct GraphArgs {
  std::string graph;
  std::vector<std::string> sets;
  std::string cache;
  std::vector<std::string> plugins;

  void add_to(CLI::App* cmd) {
    cmd->add_option("graph", graph, "Experiment graph (YAML)")->required();
    cmd->add_option("--plugin", plugins, "Load ops from this plugin library besides the graph's `plugins:`; repeatable");
    cmd->add_option("--set", sets, "Override a param (node.param=value) or a var (var=value); repeatable");
    cmd->add_option("--cache", cache, "Cache directory (default: $UNTANGLE_CACHE or .untangle/cache)");
  }
  Plan plan(const Registry& ops) const {
    std::vector<Override> overrides;
    for (const auto& s : sets) overrides.push_back(parse_override(s));
    return load_plan(graph, ops, overrides, plugins);
  }
  std::string cache_dir() const { return cache.empty() ? default_cache_dir() : cache; }
};

struct RunArgs {
  RunOptions opts;
  bool dry_run = false;
  std::string results;
  std::string executor = "local";
  ClusterOptions cluster;
};

struct JobArgs {
  std::vector<std::string> instances, keys, force;
};

std::string absolute(const std::string& path) { return std::filesystem::absolute(path).lexically_normal().string(); }

// The command a cluster job runs: this binary, on the same graph, cache, sets and plugins.
std::vector<std::string> job_command(const GraphArgs& ga) {
  std::vector<std::string> c{std::filesystem::canonical("/proc/self/exe").string(), "job", absolute(ga.graph), "--cache",
                             absolute(ga.cache_dir())};
  for (const auto& s : ga.sets) c.insert(c.end(), {"--set", s});
  for (const auto& p : ga.plugins) c.insert(c.end(), {"--plugin", absolute(p)});
  return c;
}

// On a terminal, progress is one live line that the next printed line replaces.
bool g_status_shown = false;

void print_line(const std::string& s) {
  std::fputs(((g_status_shown ? "\r\033[K" : "") + s + "\n").c_str(), stdout);
  g_status_shown = false;
  std::fflush(stdout);
}

void print_status(const std::string& s) {
  std::fputs(("\r\033[K" + s).c_str(), stdout);
  g_status_shown = true;
  std::fflush(stdout);
}

std::string number_text(const Tensor& t, std::size_t i) {
  char buf[64];
  std::to_chars_result r{};
  switch (t.dtype) {
    case DType::f32: r = std::to_chars(buf, buf + sizeof buf, t.data<float>()[i]); break;
    case DType::f64: r = std::to_chars(buf, buf + sizeof buf, t.data<double>()[i]); break;
    case DType::str: return t.strings[i];
    default: r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(t.at(i))); break;
  }
  return std::string(buf, r.ptr);
}

std::string csv_cell(const Tensor& t, std::size_t i) { return csv_field(number_text(t, i)); }

// A scalar as a bare value, a small table as CSV, anything larger as its shape.
void print_tensor(const Tensor& t) {
  constexpr std::size_t kSmall = 10000;
  if (t.is_scalar()) return print_line(number_text(t, 0));
  if (t.shape.size() > 2 || t.size() > kSmall || t.size() == 0)
    return print_line(std::string(dtype_name(t.dtype)) + " " + shape_string(t.shape));
  const std::size_t cols = t.shape.back(), rows = t.shape.size() == 2 ? t.shape[0] : 1;
  for (std::size_t r = 0; r < rows; ++r) {
    std::string line;
    for (std::size_t c = 0; c < cols; ++c) line += (c ? "," : "") + csv_cell(t, r * cols + c);
    print_line(line);
  }
}

std::size_t one_instance(const Plan& plan, const std::string& name) {
  auto sel = plan.select(name);
  if (sel.empty()) throw std::invalid_argument("no node or instance '" + name + "' in " + plan.file);
  if (sel.size() > 1) {
    std::string list;
    for (auto i : sel) list += "\n  " + plan.instances[i].name;
    throw std::invalid_argument("'" + name + "' is swept; name one instance:" + list);
  }
  return sel.front();
}

struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

std::string indent(const std::string& text, const std::string& pad) {
  std::string out = pad;
  for (char c : text) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

int cmd_run(const GraphArgs& ga, const Registry& ops, const RunArgs& ra) {
  const RunOptions& opts = ra.opts;
  if (ra.executor == "slurm") {
    const std::string missing = Slurm::missing_command();
    if (!missing.empty())
      throw UsageError("--executor slurm needs Slurm's commands, and " + missing +
                       " is not on PATH (run where Slurm's client tools are installed, or use --executor local)");
  }
  Plan plan = ga.plan(ops);
  Store store(ga.cache_dir());
  Executor ex(plan, store, print_line, ::isatty(STDOUT_FILENO) ? print_status : LogFn());
  if (ra.dry_run) {
    auto st = ex.status(opts);
    std::size_t run = 0, cached = 0;
    for (std::size_t i = 0; i < st.size(); ++i) {
      if (st[i].outcome == Outcome::excluded) continue;
      const bool hit = st[i].outcome == Outcome::cached;
      (hit ? cached : run)++;
      std::string where;
      if (!hit && ra.executor == "slurm") {
        // What each job would run; a key is known only once the instance's inputs are cached.
        if (!plan.instances[i].remote) {
          where = "  (here, in the driver)";
        } else {
          where = "  sbatch";
          for (const auto& a : sbatch_flags(plan.instances[i].resources)) where += " " + sbatch_word(a);
          for (const auto& a : ra.cluster.sbatch_args) where += " " + sbatch_word(a);
          std::string command;
          for (const auto& a : job_command(ga)) command += shell_quoted(a) + " ";
          command += "--instance " + shell_quoted(plan.instances[i].name) + " --expect-key " +
                     (st[i].key.empty() ? "<known once its inputs are cached>" : st[i].key);
          where += " --wrap " + shell_quoted(command);
        }
      }
      print_line(std::string(hit ? "  cached  " : "  run     ") + plan.instances[i].name + where);
    }
    print_line("dry run: " + std::to_string(run) + " to run, " + std::to_string(cached) + " cached");
    return 0;
  }
  RunReport report;
  if (ra.executor == "slurm") {
    // A cluster that does not answer at all is a setting to fix, not a hiccup to wait out.
    const std::string why = Slurm([](const std::string&) {}).unreachable();
    if (!why.empty()) throw UsageError("--executor slurm: the cluster does not answer: " + why);
    ClusterOptions co = ra.cluster;
    co.job_command = job_command(ga);
    report = ex.run_on_cluster(opts, co);
  } else {
    report = ex.run(opts);
  }
  const Results results = collect_results(plan, store, report, ra.results.empty() ? default_results_dir(plan) : ra.results);
  for (const auto& [what, text] : results.texts) print_line(what + ":\n" + indent(text.substr(0, text.size() - !text.empty()), "  "));
  for (const auto& f : results.files) print_line("  file    " + f);
  print_line(report.summary());
  return report.failed ? 1 : 0;
}

// Instances, in a cluster job, one after another: each computed unless cached, its entry
// written, then a marker with its outcome for the driver, which may not see the entry at once
// on a shared file system. One that fails does not stop the next.
int cmd_job(const GraphArgs& ga, const Registry& ops, const JobArgs& ja) {
  if (ja.instances.size() != ja.keys.size())
    throw UsageError("job: give one --expect-key per --instance");
  // The allocation's cores, not the node's: TBB would otherwise take every core it sees.
  std::unique_ptr<tbb::global_control> threads;
  if (const char* cpus = std::getenv("SLURM_CPUS_PER_TASK"))
    if (std::atoi(cpus) > 0)
      threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, std::atoi(cpus));
  const std::size_t n = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  print_line("untangle job: " + std::to_string(n) + (n == 1 ? " thread" : " threads"));
  Plan plan = ga.plan(ops);
  Store store(ga.cache_dir());
  make_directories(store.root() + "/jobs");
  Executor ex(plan, store, print_line);
  int code = 0;
  for (std::size_t k = 0; k < ja.instances.size(); ++k) {
    const std::string& name = ja.instances[k];
    auto mark = [&](const std::string& error) {
      write_file_atomically(job_marker_path(store, ja.keys[k]), error.empty() ? "0\n" : "1\n" + error);
      if (!error.empty()) std::cerr << "untangle job: " << name << ": " << error << "\n";
      code |= !error.empty();
    };
    try {
      const std::size_t i = one_instance(plan, name);
      RunOptions only{1, {}, {name}};
      if (std::find(ja.force.begin(), ja.force.end(), name) != ja.force.end()) only.force = {name};
      const auto st = ex.status(only);
      if (st[i].key != ja.keys[k]) {
        mark(st[i].key.empty() ? "an input of " + name + " is not in the cache"
                               : "the graph or its data changed after the job was submitted (another key)");
        continue;
      }
      const NodeResult r = ex.run(only).nodes[i];
      mark(r.outcome == Outcome::ran || r.outcome == Outcome::cached ? "" : r.error);
    } catch (const std::exception& e) {
      mark(e.what());
    }
  }
  return code;
}

int cmd_status(const GraphArgs& ga, const Registry& ops) {
  Plan plan = ga.plan(ops);
  Store store(ga.cache_dir());
  Executor ex(plan, store, [](const std::string& s) { std::cerr << s << "\n"; });
  auto st = ex.status();
  for (std::size_t i = 0; i < st.size(); ++i)
    print_line(plan.instances[i].name + "\t" + (st[i].outcome == Outcome::cached ? "cached" : "stale"));
  return 0;
}

// The cached result of one instance, or an explanation of why there is none.
NodeResult cached_result(const Plan& plan, Store& store, std::size_t i) {
  Executor ex(plan, store, [](const std::string& s) { std::cerr << s << "\n"; });
  NodeResult r = ex.status()[i];
  if (r.outcome != Outcome::cached)
    throw std::runtime_error(plan.instances[i].name + " is stale (not in the cache for these params); run `untangle run " +
                             plan.file + "` first");
  return r;
}

int cmd_get(const GraphArgs& ga, const Registry& ops, const std::string& what) {
  const auto dot = what.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == what.size())
    throw UsageError("expected NODE.PORT, got '" + what + "'");
  Plan plan = ga.plan(ops);
  const std::size_t i = one_instance(plan, what.substr(0, dot));
  const std::string port = what.substr(dot + 1);
  const PortSpec* spec = plan.instances[i].output(port.substr(0, port.find('/')));
  if (!spec || (!spec->group && port.find('/') != std::string::npos)) {
    std::string list;
    for (const auto& p : plan.instances[i].outputs) list += (list.empty() ? "" : ", ") + p.name;
    throw UsageError(plan.instances[i].name + " (" + plan.instances[i].op->name + ") has no output '" + port +
                     "' (outputs: " + list + ")");
  }
  Store store(ga.cache_dir());
  NodeResult r = cached_result(plan, store, i);
  if (spec->group && port == spec->name) {  // a group: list its members
    for (const auto& d : store.datasets(r.key))
      if (d.name.rfind(port + "/", 0) == 0)
        print_line(d.name.substr(port.size() + 1) + "\t" + dtype_name(d.dtype) + " " + shape_string(d.shape));
    return 0;
  }
  if (!r.digests.count(port)) throw UsageError(plan.instances[i].name + " has no member '" + port + "'");
  print_tensor(store.read(r.key, port));
  return 0;
}

int cmd_show(const GraphArgs& ga, const Registry& ops, const std::string& node) {
  Plan plan = ga.plan(ops);
  auto sel = plan.select(node);
  if (sel.empty()) throw UsageError("no node or instance '" + node + "' in " + plan.file);
  Store store(ga.cache_dir());
  Executor ex(plan, store, [](const std::string& s) { std::cerr << s << "\n"; });
  auto st = ex.status();
  int rc = 0;
  for (auto i : sel) {
    const Instance& inst = plan.instances[i];
    if (st[i].outcome != Outcome::cached) {
      print_line(inst.name + ": stale, not in the cache (run `untangle run " + plan.file + "`)");
      rc = 1;
      continue;
    }
    EntryInfo info;
    store.inspect(st[i].key, &info);
    print_line(inst.name);
    print_line("  file     " + std::filesystem::absolute(store.path_of(info.key)).string());
    print_line("  key      " + info.key);
    print_line("  op       " + info.op + " (version " + std::to_string(info.op_version) + ")");
    print_line("  node     " + info.node);
    print_line("  created  " + info.created);
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3f s", info.seconds);
    print_line("  wall     " + std::string(secs));
    if (!info.timings.empty()) print_line("  timings\n" + indent(info.timings, "    "));
    print_line("  params\n" + indent(info.params, "    "));
    print_line("  inputs\n" + indent(info.inputs, "    "));
    print_line("  datasets");
    for (const auto& d : store.datasets(info.key))
      print_line("    " + d.name + "  " + dtype_name(d.dtype) + " " + shape_string(d.shape) + "  digest " + d.digest);
  }
  return rc;
}

std::string dot_id(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return q + "\"";
}

int cmd_dag(const GraphArgs& ga, const Registry& ops) {
  Plan plan = ga.plan(ops);
  Store store(ga.cache_dir());
  Executor ex(plan, store, [](const std::string&) {});
  auto st = ex.status();
  print_line("digraph " + dot_id(plan.name) + " {");
  print_line("  rankdir=LR;");
  print_line("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];");
  for (std::size_t i = 0; i < plan.instances.size(); ++i) {
    const Instance& inst = plan.instances[i];
    const bool hit = st[i].outcome == Outcome::cached;
    print_line("  " + dot_id(inst.name) + " [label=" + dot_id(inst.name + "\\n" + inst.op->name) + ", fillcolor=\"" +
               (hit ? "#d8f0d8" : "#eeeeee") + "\"];");
  }
  for (std::size_t i = 0; i < plan.instances.size(); ++i)
    for (const auto& in : plan.instances[i].inputs)
      for (auto j : in.from)
        print_line("  " + dot_id(plan.instances[j].name) + " -> " + dot_id(plan.instances[i].name) +
                   " [label=" + dot_id(in.from_port + " → " + in.port) + "];");
  print_line("}");
  return 0;
}

int cmd_ops(const Registry& ops, const std::string& name) {
  if (name.empty()) {
    // untangle's own ops first, then each plugin's under its file's name.
    std::map<std::string, std::vector<const OpSchema*>> by_origin;
    for (const auto* op : ops.all()) by_origin[op->origin].push_back(op);
    for (const auto& [origin, list] : by_origin) {
      if (!origin.empty()) print_line("from plugin " + origin + ":");
      for (const auto* op : list) {
        std::string line = "  " + op->name;
        line.resize(std::max<std::size_t>(line.size() + 1, 18), ' ');
        print_line(line + op->doc.substr(0, op->doc.find('\n')));
      }
    }
    print_line("`untangle ops OP` shows an op's ports and params.");
    return 0;
  }
  const OpSchema* op = ops.find(name);
  if (!op) throw UsageError("unknown op '" + name + "' (`untangle ops` lists them)");
  print_line(op->name + " (version " + std::to_string(op->version) +
             (op->light ? ", light: on a cluster it runs in the driver" : "") +
             (op->origin.empty() ? "" : ", from plugin " + op->origin) + ")");
  print_line(indent(op->doc, "  "));
  auto ports = [](const char* title, const std::vector<PortSpec>& v, const char* dynamic) {
    print_line(title);
    if (dynamic) print_line(std::string("    ") + dynamic);
    else if (v.empty()) print_line("    (none)");
    for (const auto& p : v)
      print_line("    " + p.name + (p.optional ? " (optional)" : "") + (p.gather ? " (gathers a sweep or a list)" : "") +
                 (p.group ? " (group)" : "") + (p.print ? " (printed by run)" : "") +
                 (p.file.empty() ? "" : " (file ." + p.file + ", copied to the results directory)") +
                 (p.doc.empty() ? "" : ": " + p.doc));
  };
  ports("  inputs", op->inputs, op->any_inputs ? "(any names the node gives; each a tensor)" : nullptr);
  ports("  outputs", op->outputs, op->outputs_of ? "(declared by the node's params)" : nullptr);
  print_line("  params");
  if (op->params.empty()) print_line("    (none)");
  for (const auto& p : op->params) {
    const std::string text = describe_param(p, "    ");
    print_line(text.substr(0, text.size() - 1));
  }
  return 0;
}

int cmd_gc(const std::string& cache, const GcOptions& opts) {
  Store store(cache.empty() ? default_cache_dir() : cache);
  if (!std::filesystem::exists(store.root())) {
    print_line("no cache at " + store.root());
    return 0;
  }
  GcReport r = store.gc(opts, print_line);
  char mb[32];
  std::snprintf(mb, sizeof mb, "%.1f MB", r.bytes_freed / 1e6);
  print_line(std::string(opts.dry_run ? "gc (dry run): would remove " : "gc: removed ") + std::to_string(r.removed) +
             " unused, " + std::to_string(r.damaged) + " damaged and " + std::to_string(r.temporaries) +
             " interrupted entries (" + mb + "); kept " + std::to_string(r.kept));
  return 0;
}

}  // namespace

int cli_main(int argc, char** argv, const Registry& ops) {
  install_interrupt_cleanup();
  CLI::App app{"untangle: declare an experiment as a YAML graph, run it, rerun only what changed."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "untangle 0.1");

  GraphArgs ga;
  RunArgs ra;
  auto* run = app.add_subcommand("run", "Run a graph; cached nodes are not recomputed");
  ga.add_to(run);
  run->add_option("--jobs,-j", ra.opts.jobs, "Ops running at once (default: one per core)")->check(CLI::PositiveNumber);
  run->add_option("--force", ra.opts.force, "Rerun this node (or instance) even if cached; repeatable");
  run->add_option("--only", ra.opts.only, "Run only this node and what it needs; repeatable");
  run->add_flag("--dry-run,-n", ra.dry_run, "Print what would run and what is cached; run nothing");
  run->add_option("--results", ra.results, "Where file outputs (figures) are copied (default: results/<graph name>)");
  run->add_option("--executor", ra.executor, "Where ops run: local (this machine's cores) or slurm (a job per instance; light ops here)")
      ->check(CLI::IsMember({"local", "slurm"}));
  run->add_option("--slurm-arg", ra.cluster.sbatch_args,
                  "Pass this flag to every sbatch, --name or --name=value, e.g. --slurm-arg=--account=lab; repeatable")
      ->check(CLI::Validator([](const std::string& a) { return slurm_arg_problem(a); }, "FLAG"));
  run->add_option("--retries", ra.cluster.retries, "Submit a failed cluster job again, up to this many times (default 0)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--poll-max", ra.cluster.poll_max, "Longest wait between two squeue calls, in seconds (default 60)")
      ->check(CLI::PositiveNumber);
  run->add_option("--fs-latency", ra.cluster.fs_latency,
                  "How long a finished job's cache entry may take to be seen here, in seconds (default 30)")
      ->check(CLI::NonNegativeNumber);

  JobArgs ja;
  auto* job = app.add_subcommand("job", "Compute one instance into the cache (what a cluster job runs)");
  job->group("");  // for the cluster executor, not for people
  ga.add_to(job);
  job->add_option("--instance", ja.instances, "An instance; repeatable, computed in order")->required();
  job->add_option("--expect-key", ja.keys, "Its key as the driver computed it (one per --instance); another key is an error")
      ->required();
  job->add_option("--force", ja.force, "Compute this instance even if it is cached; repeatable");

  auto* status = app.add_subcommand("status", "One line per node instance: name, a tab, cached or stale");
  ga.add_to(status);

  std::string what;
  auto* get = app.add_subcommand("get", "Print an output: a scalar bare, a small tensor as CSV, else its shape");
  ga.add_to(get);
  get->add_option("output", what, "NODE.PORT, e.g. sample[seed=3].y or agg.mean")->required();

  std::string node;
  auto* show = app.add_subcommand("show", "Describe a node's cached artifact: file, datasets, attributes");
  ga.add_to(show);
  show->add_option("node", node, "Node or instance name")->required();

  auto* dag = app.add_subcommand("dag", "Print the expanded graph as Graphviz DOT (cached nodes green)");
  ga.add_to(dag);

  std::string op_name;
  auto* opscmd = app.add_subcommand("ops", "List ops, or show one op's ports and params");
  opscmd->add_option("op", op_name, "Op name");
  std::vector<std::string> ops_plugins;
  opscmd->add_option("--plugin", ops_plugins, "Also list the ops of this plugin library; repeatable");

  GcOptions gco;
  std::string gc_cache;
  auto* gc = app.add_subcommand("gc", "Remove damaged, interrupted and long-unused cache entries");
  gc->add_option("--cache", gc_cache, "Cache directory (default: $UNTANGLE_CACHE or .untangle/cache)");
  gc->add_option("--max-age", gco.max_age_days, "Remove unreferenced entries unused for this many days (default 30)")
      ->check(CLI::NonNegativeNumber);
  gc->add_flag("--unreferenced", gco.unreferenced, "Remove every entry no graph's latest run used, whatever its age");
  gc->add_flag("--verify", gco.verify, "Read every entry in full and remove those whose data fails its checksum");
  gc->add_flag("--dry-run,-n", gco.dry_run, "Print what would be removed; remove nothing");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (*run) return cmd_run(ga, ops, ra);
    if (*job) return cmd_job(ga, ops, ja);
    if (*status) return cmd_status(ga, ops);
    if (*get) return cmd_get(ga, ops, what);
    if (*show) return cmd_show(ga, ops, node);
    if (*dag) return cmd_dag(ga, ops);
    if (*opscmd) {
      if (ops_plugins.empty()) return cmd_ops(ops, op_name);
      Registry with_plugins = ops;
      for (const auto& p : ops_plugins) try {
          load_plugin(p, with_plugins);
        } catch (const std::runtime_error& e) {
          throw UsageError(e.what());
        }
      return cmd_ops(with_plugins, op_name);
    }
    if (*gc) return cmd_gc(gc_cache, gco);
  } catch (const GraphError& e) {
    for (const auto& d : e.diagnostics) std::cerr << d.str() << "\n";
    std::cerr << e.diagnostics.size() << (e.diagnostics.size() == 1 ? " error" : " errors") << " in " << ga.graph << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "untangle: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "untangle: error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace untangle
