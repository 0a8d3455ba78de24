#include "pipeline/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "pipeline/atomic_file.h"

extern char** environ;

namespace untangle {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  ~Pipe() { close_end(0), close_end(1); }
  void close_end(int k) {
    if (fd[k] >= 0) ::close(fd[k]);
    fd[k] = -1;
  }
};

// Splits a stream into lines as it arrives.
struct Lines {
  std::string partial;
  void feed(const char* data, std::size_t n, const std::function<void(const std::string&)>& line) {
    partial.append(data, n);
    std::size_t start = 0, nl;
    while ((nl = partial.find('\n', start)) != std::string::npos) {
      if (line) line(partial.substr(start, nl - start));
      start = nl + 1;
    }
    partial.erase(0, start);
  }
  void finish(const std::function<void(const std::string&)>& line) {
    if (!partial.empty() && line) line(partial);
    partial.clear();
  }
};

}  // namespace

bool ProcessEnd::exited_ok() const { return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string ProcessEnd::describe(const std::string& who) const {
  if (WIFSIGNALED(status))
    return who + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
  return who + " exited with status " + std::to_string(WEXITSTATUS(status));
}

ProcessEnd run_process(const ProcessSpec& spec) {
  Pipe out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
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
  for (const auto& a : spec.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int rc = 0;
  const pid_t pid = start_child_group([&] {
    pid_t p = -1;
    rc = ::posix_spawnp(&p, args[0], &actions, &attr, args.data(), envp.data());
    return rc == 0 ? p : -1;
  });
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot run " + spec.argv[0] + ": " + std::strerror(rc));
  out.close_end(1);
  err.close_end(1);

  ProcessEnd f;
  Lines out_lines, err_lines;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(spec.timeout.value_or(0));
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
    if (!exited && spec.timeout && std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &f.status, 0);
      exited = f.timed_out = true;
    }
    if (out.fd[0] < 0 && err.fd[0] < 0) {
      if (exited) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    if (::poll(fds, 2, 100) < 0 && errno != EINTR) break;
    char buf[65536];
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n > 0 && k == 0 && spec.on_stdout_bytes)
        spec.on_stdout_bytes(buf, static_cast<std::size_t>(n));
      else if (n > 0)
        (k == 0 ? out_lines : err_lines).feed(buf, n, k == 0 ? spec.on_stdout : spec.on_stderr);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) (k == 0 ? out : err).close_end(0);
    }
  }
  end_child_group(pid);
  out_lines.finish(spec.on_stdout);
  err_lines.finish(spec.on_stderr);
  return f;
}

std::vector<std::string> environment(const std::map<std::string, std::string>& set,
                                     const std::function<bool(const std::string& name)>& drop) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (!set.count(name) && !(drop && drop(name))) env.push_back(entry);
  }
  for (const auto& [k, v] : set) env.push_back(k + "=" + v);
  return env;
}

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = dirs.substr(start, end - start);
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace untangle
