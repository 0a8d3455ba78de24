// exec: a node that runs a program in any language. Inputs go to one HDF5 file, outputs come
// back in another; the program's stdout is the node's log, its stderr the failure message.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>
#include <thread>

#include "nodes/core/ops.h"
#include "pipeline/atomic_file.h"
#include "pipeline/store.h"

extern char** environ;

namespace fs = std::filesystem;

namespace untangle {

namespace {

std::vector<std::string> strings_of(const YAML::Node& list) {
  std::vector<std::string> out;
  if (list.IsSequence())
    for (const auto& x : list) out.push_back(x.as<std::string>());
  return out;
}

// Seconds in "90s", "10m", "2h", "1h30m"; none for "" or for anything else.
std::optional<double> seconds_in(const std::string& text) {
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
    else return std::nullopt;
    pos = end + 1;
  }
  return total;
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

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  ~Pipe() { close_all(); }
  void close_end(int k) {
    if (fd[k] >= 0) ::close(fd[k]);
    fd[k] = -1;
  }
  void close_all() { close_end(0), close_end(1); }
};

// Splits a stream into lines as it arrives.
struct Lines {
  std::string partial;
  template <class F> void feed(const char* data, std::size_t n, F&& line) {
    partial.append(data, n);
    std::size_t start = 0, nl;
    while ((nl = partial.find('\n', start)) != std::string::npos) {
      line(partial.substr(start, nl - start));
      start = nl + 1;
    }
    partial.erase(0, start);
  }
  template <class F> void finish(F&& line) {
    if (!partial.empty()) line(partial);
    partial.clear();
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

std::vector<std::string> environment(const std::map<std::string, std::string>& set) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (!set.count(entry.substr(0, entry.find('=')))) env.push_back(entry);
  }
  for (const auto& [k, v] : set) env.push_back(k + "=" + v);
  return env;
}

struct Finished {
  int status = 0;
  bool timed_out = false;
  std::deque<std::string> stderr_tail;  // the last 20 lines
};

Finished run_program(OpContext& ctx, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     const fs::path& cwd, std::optional<double> timeout) {
  Pipe out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A group of its own, so that a timeout or Ctrl-C kills the program and all it started.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int rc = 0;
  const pid_t pid = start_child_group([&] {
    pid_t p = -1;
    rc = ::posix_spawnp(&p, args[0], &actions, &attr, args.data(), envp.data());
    return rc == 0 ? p : -1;
  });
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  out.close_end(1);
  err.close_end(1);

  Finished f;
  Lines out_lines, err_lines;
  auto keep = [&](const std::string& line) {
    f.stderr_tail.push_back(line);
    if (f.stderr_tail.size() > 20) f.stderr_tail.pop_front();
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout.value_or(0));
  bool exited = false;
  while (true) {
    if (!exited) {
      const pid_t w = ::waitpid(pid, &f.status, WNOHANG);
      if (w == pid) {
        exited = true;
        // What the program left running would hold the pipes open; it goes with the program.
        ::kill(-pid, SIGKILL);
      }
    }
    if (!exited && timeout && std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &f.status, 0);
      exited = f.timed_out = true;
    }
    if (out.fd[0] < 0 && err.fd[0] < 0) {
      if (exited) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    if (::poll(fds, 2, 100) < 0 && errno != EINTR) break;
    char buf[4096];
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n > 0 && k == 0) out_lines.feed(buf, n, [&](const std::string& l) { stdout_line(ctx, l); });
      if (n > 0 && k == 1) err_lines.feed(buf, n, keep);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) (k == 0 ? out : err).close_end(0);
    }
  }
  end_child_group(pid);
  out_lines.finish([&](const std::string& l) { stdout_line(ctx, l); });
  err_lines.finish(keep);
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
  const auto timeout = seconds_in(ctx.string("timeout"));  // the plan checked its form
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
  if (f.timed_out) throw std::runtime_error(with_stderr(who + " timed out after " + ctx.string("timeout"), f));
  if (WIFSIGNALED(f.status))
    throw std::runtime_error(with_stderr(who + " was killed by signal " + std::to_string(WTERMSIG(f.status)) + " (" +
                                             ::strsignal(WTERMSIG(f.status)) + ")", f));
  if (WEXITSTATUS(f.status) != 0)
    throw std::runtime_error(with_stderr(who + " exited with status " + std::to_string(WEXITSTATUS(f.status)), f));

  const auto declared = declared_outputs(ctx.params);
  Outputs got;
  try {
    if (fs::exists(output)) got = read_h5_file(output.string());
  } catch (const std::exception& e) {
    throw std::runtime_error(with_stderr(who + "'s UNTANGLE_OUTPUT: " + e.what(), f));
  }
  std::string names;
  for (const auto& p : declared) names += (names.empty() ? "" : ", ") + p.name;
  for (const auto& [name, t] : got) {
    auto spec = std::find_if(declared.begin(), declared.end(), [&](const PortSpec& p) { return p.name == name; });
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
    return text.empty() || seconds_in(text) ? std::string() : "must be a duration like 30s, 10m or 2h, got '" + text + "'";
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
