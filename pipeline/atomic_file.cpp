#include "pipeline/atomic_file.h"

#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

namespace untangle {

namespace {

// Temporary files exist only while registered here. Creating, renaming and removing them
// happens under the lock, and the interrupt thread takes the lock for good before it cleans
// up, so no file can appear after the cleanup.
struct Registry {
  std::mutex m;
  std::set<std::string> paths;
  std::set<int> child_groups;
  bool closing = false;
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: the interrupt thread may outlive main
  return *r;
}

std::string random_suffix() {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d.%u.%08x", static_cast<int>(::getpid()), counter++, rd());
  return buf;
}

// Opens with `flags` and syncs. errno is read before close(), which may change it.
void fsync_open(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), O_RDONLY | flags);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // EINVAL for a directory: a file system that cannot sync one; it offers nothing better.
  if (rc != 0 && !((flags & O_DIRECTORY) && err == EINVAL))
    throw std::runtime_error(path + ": fsync failed: " + std::strerror(err));
}

void fsync_path(const std::string& path) { fsync_open(path, 0); }

// A rename or a new file is a change to its directory, which reaches the disk only when the
// directory itself is synced; until then a power cut can undo it.
void fsync_directory(const std::filesystem::path& dir) { fsync_open(dir.empty() ? "." : dir.string(), O_DIRECTORY); }

volatile sig_atomic_t g_signal = 0;

}  // namespace

bool is_temp_name(const std::string& filename) { return filename.rfind(".tmp.", 0) == 0; }

TempPath::TempPath(const std::string& target) : target_(target) {
  std::filesystem::path t(target);
  path_ = (t.parent_path() / (".tmp." + t.filename().string() + "." + random_suffix())).string();
}

TempPath::~TempPath() {
  if (committed_) return;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.m);
  if (r.paths.erase(path_)) ::unlink(path_.c_str());
}

void TempPath::create(const std::function<void(const std::string&)>& make) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.m);
  if (r.closing) throw std::runtime_error("interrupted");
  r.paths.insert(path_);
  make(path_);
}

void TempPath::commit() {
  fsync_path(path_);
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.m);
    if (::rename(path_.c_str(), target_.c_str()) != 0)
      throw std::runtime_error(target_ + ": cannot rename into place: " + std::strerror(errno));
    r.paths.erase(path_);
    committed_ = true;
  }
  fsync_directory(std::filesystem::path(target_).parent_path());
}

void make_directories(const std::string& dir) {
  const std::filesystem::path p(dir);
  std::error_code ec;
  if (p.empty() || std::filesystem::is_directory(p, ec)) return;
  make_directories(p.parent_path().string());
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) throw std::runtime_error(dir + ": " + std::strerror(errno));
  // Also when another process made it just now: it may not have synced it yet.
  fsync_directory(p.parent_path());
}

void write_file_atomically(const std::string& target, const std::string& content) {
  TempPath tmp(target);
  std::FILE* f = nullptr;
  tmp.create([&](const std::string& p) { f = std::fopen(p.c_str(), "wb"); });
  if (!f) throw std::runtime_error(tmp.path() + ": " + std::strerror(errno));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw std::runtime_error(tmp.path() + ": write failed");
  tmp.commit();
}

int start_child_group(const std::function<int()>& spawn) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.m);
  if (r.closing) throw std::runtime_error("interrupted");
  const int pgid = spawn();
  if (pgid > 0) r.child_groups.insert(pgid);
  return pgid;
}

void end_child_group(int pgid) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.m);
  r.child_groups.erase(pgid);
}

std::mutex g_hook_mutex;
std::function<void()> g_hook;

void set_interrupt_hook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(g_hook_mutex);
  g_hook = std::move(hook);
}

void install_interrupt_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    static sem_t wake;
    sem_init(&wake, 0, 0);
    // The handler may run on any thread (libraries start threads of their own before main),
    // so it only wakes the cleanup thread, which can take locks.
    struct sigaction sa {};
    sa.sa_handler = [](int sig) {
      g_signal = sig;
      sem_post(&wake);
    };
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction current {};
      // A shell ignores SIGINT in background jobs; that choice is kept.
      if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) sigaction(sig, &sa, nullptr);
    }
    std::thread([] {
      while (sem_wait(&wake) != 0) {}
      const int sig = g_signal;
      {
        std::lock_guard<std::mutex> lock(g_hook_mutex);
        if (g_hook) try {
            g_hook();
          } catch (...) {
          }
      }
      Registry& r = registry();
      r.m.lock();  // held until the process ends: nothing new is created or renamed
      r.closing = true;
      for (const auto& p : r.paths) ::unlink(p.c_str());
      for (int g : r.child_groups) ::kill(-g, SIGKILL);
      // Die of the signal itself, so the exit status tells the shell what happened.
      ::signal(sig, SIG_DFL);
      ::raise(sig);
    }).detach();
  });
}

}  // namespace untangle
