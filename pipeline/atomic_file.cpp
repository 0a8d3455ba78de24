#include "pipeline/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace untangle {

namespace {
// Fixed-size table so the signal handler can walk it without locks or allocation.
constexpr int kSlots = 256;
constexpr std::size_t kPathMax = 4096;
std::array<std::atomic<bool>, kSlots> g_used{};
std::array<std::array<char, kPathMax>, kSlots> g_paths{};

int claim_slot(const std::string& path) {
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_used[i].load() == false && g_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_paths[i].data(), path.c_str(), path.size() + 1);
      return i;
    }
  }
  return -1;  // table full: the file is still removed by the destructor, just not on a signal
}

void release_slot(int i) {
  if (i >= 0) g_used[i].store(false);
}

void on_signal(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (g_used[i].load()) ::unlink(g_paths[i].data());
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

std::string random_suffix() {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d.%u.%08x", static_cast<int>(::getpid()), counter++, rd());
  return buf;
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error(path + ": fsync failed: " + std::strerror(errno));
}
}  // namespace

bool is_temp_name(const std::string& filename) { return filename.rfind(".tmp.", 0) == 0; }

TempPath::TempPath(const std::string& target) : target_(target) {
  std::filesystem::path t(target);
  path_ = (t.parent_path() / (".tmp." + t.filename().string() + "." + random_suffix())).string();
  slot_ = claim_slot(path_);
}

TempPath::~TempPath() {
  if (!committed_) ::unlink(path_.c_str());
  release_slot(slot_);
}

void TempPath::commit() {
  fsync_path(path_);
  if (::rename(path_.c_str(), target_.c_str()) != 0)
    throw std::runtime_error(target_ + ": cannot rename into place: " + std::strerror(errno));
  committed_ = true;
}

void write_file_atomically(const std::string& target, const std::string& content) {
  TempPath tmp(target);
  std::FILE* f = std::fopen(tmp.path().c_str(), "wb");
  if (!f) throw std::runtime_error(tmp.path() + ": " + std::strerror(errno));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw std::runtime_error(tmp.path() + ": write failed");
  tmp.commit();
}

void install_interrupt_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
}

}  // namespace untangle
