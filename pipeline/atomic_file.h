// Files that appear whole or not at all: data goes to a temporary name in the target's
// directory and is renamed over the target only once it is complete and synced. A reader
// (this process or another one sharing the directory) never sees a partial file.
#pragma once
#include <functional>
#include <string>

namespace untangle {

// A temporary path beside `target`. The file is created through create(), which registers it
// so that an interrupted process removes it.
class TempPath {
 public:
  explicit TempPath(const std::string& target);
  ~TempPath();  // removes the file unless commit() succeeded
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::string& path() const { return path_; }
  // Runs make(path) to create the file. Throws if the process is being interrupted.
  void create(const std::function<void(const std::string&)>& make);
  void commit();  // fsync, rename onto the target, fsync the directory

 private:
  std::string path_, target_;
  bool committed_ = false;
};

void write_file_atomically(const std::string& target, const std::string& content);

// Creates `dir` and its missing parents, each synced into its parent directory, so that what
// is later written there survives a power cut.
void make_directories(const std::string& dir);

// From here on SIGINT, SIGTERM and SIGHUP wake a thread of their own, which removes every
// temporary file and then lets the signal end the process.
void install_interrupt_cleanup();

// Work to do first when the process is interrupted, before the files go (say, cancel the
// cluster jobs of a run). One hook at a time; nullptr removes it.
void set_interrupt_hook(std::function<void()> hook);

bool is_temp_name(const std::string& filename);  // names TempPath creates

// Child processes run in process groups of their own (exec's programs); an interrupt kills
// every registered group before the process ends. `spawn` runs under the registry's lock and
// returns the new group's id, so no child can start after the cleanup; it is not called, and
// this throws, once the process is being interrupted.
int start_child_group(const std::function<int()>& spawn);
void end_child_group(int pgid);

}  // namespace untangle
