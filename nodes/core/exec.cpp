// exec: a node that runs a program in any language. Inputs go to one HDF5 file, outputs come
// back in another; the program's stdout is the node's log, its stderr the failure message.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>

#include "nodes/core/ops.h"
#include "nodes/data/hdf5_child.h"
#include "pipeline/process.h"
#include "pipeline/resources.h"
#include "pipeline/store.h"

namespace fs = std::filesystem;

namespace untangle {

namespace {

std::vector<std::string> strings_of(const YAML::Node& list) {
  std::vector<std::string> out;
  if (list.IsSequence())
    for (const auto& x : list) out.push_back(x.as<std::string>());
  return out;
}

// A directory of its own for one run, removed however the run ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "untangle-exec-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error(std::string("cannot create a temporary directory: ") + std::strerror(errno));
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// "progress 0.4 epoch 2/5" reports progress; any other line is the node's log.
void stdout_line(OpContext& ctx, const std::string& line) {
  if (line.compare(0, 9, "progress ") == 0) {
    char* end = nullptr;
    const double f = std::strtod(line.c_str() + 9, &end);
    if (end != line.c_str() + 9 && (*end == '\0' || *end == ' ')) {
      ctx.progress(std::min(1.0, std::max(0.0, f)), *end ? std::string(end + 1) : std::string());
      return;
    }
  }
  ctx.log(line);
}

struct Finished {
  ProcessEnd end;
  std::deque<std::string> stderr_tail;  // the last 20 lines
};

Finished run_program(OpContext& ctx, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     const fs::path& cwd, std::optional<double> timeout) {
  Finished f;
  ProcessSpec spec{argv, env, cwd.string(), timeout, nullptr, nullptr, nullptr};
  spec.on_stdout = [&](const std::string& l) { stdout_line(ctx, l); };
  spec.on_stderr = [&](const std::string& l) {
    f.stderr_tail.push_back(l);
    if (f.stderr_tail.size() > 20) f.stderr_tail.pop_front();
  };
  f.end = run_process(spec);
  return f;
}

std::string with_stderr(std::string what, const Finished& f) {
  if (f.stderr_tail.empty()) return what + " (stderr was empty)";
  what += "; the last lines of its stderr:";
  for (const auto& l : f.stderr_tail) what += "\n  " + l;
  return what;
}

std::vector<PortSpec> declared_outputs(const YAML::Node& params) {
  std::vector<PortSpec> out;
  const YAML::Node outputs = params["outputs"];
  if (outputs && outputs.IsMap())
    for (const auto& kv : outputs) out.push_back({kv.first.as<std::string>(), kv.second.as<std::string>()});
  return out;
}

// Only the content of `files` enters the key; a relative name is the graph file's neighbour.
std::vector<std::string> exec_files(const YAML::Node& params) { return strings_of(params["files"]); }

std::string env_key(const YAML::Node& params) {
  std::string text;
  for (const auto& name : strings_of(params["env"])) {
    const char* v = std::getenv(name.c_str());
    text += name + (v ? "=" + std::string(v) : std::string(" unset")) + "\n";
  }
  return text;
}

Outputs run(OpContext& ctx) {
  const auto timeout = duration_seconds(ctx.string("timeout"));  // the plan checked its form
  const fs::path graph_dir = fs::absolute(ctx.graph_dir).lexically_normal();
  std::vector<std::string> argv = strings_of(ctx.params["command"]);
  // The program and the listed files are named as the graph file sees them; the program runs
  // elsewhere, in a directory of its own.
  const auto files = strings_of(ctx.params["files"]);
  const std::set<std::string> listed(files.begin(), files.end());
  for (std::size_t k = 0; k < argv.size(); ++k)
    if ((listed.count(argv[k]) || (k == 0 && argv[k].find('/') != std::string::npos)) && fs::path(argv[k]).is_relative())
      argv[k] = (graph_dir / argv[k]).lexically_normal().string();

  TempDir dir;
  const fs::path input = dir.path / "input.h5", output = dir.path / "output.h5", work = dir.path / "work";
  fs::create_directory(work);
  Outputs in;
  for (const auto& [port, tensors] : ctx.inputs) in[port] = ctx.input(port);
  write_h5_file(input.string(), in);
  const auto env = environment(
      {{"UNTANGLE_INPUT", input.string()}, {"UNTANGLE_OUTPUT", output.string()}, {"UNTANGLE_GRAPH_DIR", graph_dir.string()}});

  const Finished f = run_program(ctx, argv, env, work, timeout);
  const std::string who = ctx.params["command"][0].as<std::string>();
  if (f.end.timed_out) throw std::runtime_error(with_stderr(who + " timed out after " + ctx.string("timeout"), f));
  if (!f.end.exited_ok()) throw std::runtime_error(with_stderr(f.end.describe(who), f));

  const auto declared = declared_outputs(ctx.params);
  Outputs got;
  try {
    if (fs::exists(output)) got = read_h5_file_in_child(output.string());
  } catch (const std::exception& e) {
    throw std::runtime_error(with_stderr(who + "'s UNTANGLE_OUTPUT: " + e.what(), f));
  }
  std::string names;
  for (const auto& p : declared) names += (names.empty() ? "" : ", ") + p.name;
  for (const auto& [name, t] : got) {
    // Captured by an init-capture: clang before 16 cannot capture a structured binding itself.
    auto spec = std::find_if(declared.begin(), declared.end(), [&name = name](const PortSpec& p) { return p.name == name; });
    if (spec == declared.end())
      throw std::runtime_error(with_stderr(who + " wrote undeclared output '" + name + "' (outputs: " + names + ")", f));
    if (t.dtype == DType::str)
      throw std::runtime_error(with_stderr(who + " wrote output '" + name + "' as strings; it must be numeric", f));
    if (spec->doc == "scalar" && t.size() != 1)
      throw std::runtime_error(with_stderr(who + " wrote output '" + name + "' with shape " + shape_string(t.shape) +
                                               "; it is declared scalar (one value)", f));
  }
  for (const auto& p : declared)
    if (!got.count(p.name)) throw std::runtime_error(with_stderr(who + " wrote no output '" + p.name + "' to UNTANGLE_OUTPUT", f));
  return got;
}

}  // namespace

OpSchema exec_op() {
  OpSchema op;
  op.name = "exec";
  op.doc =
      "Runs a program in any language. Its inputs are datasets of one HDF5 file, named by UNTANGLE_INPUT; it writes "
      "one dataset per declared output to the HDF5 file named by UNTANGLE_OUTPUT. It runs in a fresh temporary "
      "directory; UNTANGLE_GRAPH_DIR names the graph file's directory, against which relative paths in command and "
      "files resolve. stdout lines go to the log; a line 'progress 0.4 text' reports progress. A nonzero exit, a "
      "signal, a timeout or a missing, undeclared or mistyped output fails the node with the end of its stderr.";
  op.any_inputs = true;
  ParamSpec text_item{"", ParamType::string, "", std::nullopt};
  ParamSpec command{"command", ParamType::list, "the program and its arguments, ${var} substituted", std::nullopt};
  command.items = {text_item};
  command.min = 1;
  ParamSpec files{"files", ParamType::list, "files the program reads (its script); their content enters the key", "[]"};
  files.items = {ParamSpec{"", ParamType::path, "", std::nullopt}};
  files.hashed = false;
  ParamSpec kind{"", ParamType::choice, "scalar: one number; tensor: any numeric array", std::nullopt};
  kind.choices = {"scalar", "tensor"};
  ParamSpec outputs{"outputs", ParamType::dict, "output name → scalar or tensor", std::nullopt};
  outputs.items = {kind};
  ParamSpec env{"env", ParamType::list, "environment variables whose values enter the key", "[]"};
  env.items = {text_item};
  ParamSpec timeout{"timeout", ParamType::string, "kill the program after this long (30s, 10m, 2h); empty: never", "''"};
  timeout.hashed = false;  // how long to wait does not change what is computed
  timeout.check = [](const YAML::Node& v) {
    const std::string text = v.as<std::string>();
    return text.empty() || duration_seconds(text) ? std::string() : "must be a duration like 30s, 10m or 2h, got '" + text + "'";
  };
  op.params = {command, files, outputs, env, timeout};
  op.files = exec_files;
  op.files_from_graph_dir = true;
  op.outputs_of = declared_outputs;
  op.key_extra = env_key;
  op.run = run;
  return op;
}

}  // namespace untangle
