// Files that appear whole or not at all: data goes to a temporary name in the target's
// directory and is renamed over the target only once it is complete and synced. A reader
// (this process or another one sharing the directory) never sees a partial file.
#pragma once
#include <string>

namespace untangle {

// A temporary path beside `target`, registered so that an interrupted process removes it.
class TempPath {
 public:
  explicit TempPath(const std::string& target);
  ~TempPath();  // removes the file unless commit() succeeded
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::string& path() const { return path_; }
  void commit();  // fsync, then rename onto the target

 private:
  std::string path_, target_;
  int slot_ = -1;
  bool committed_ = false;
};

void write_file_atomically(const std::string& target, const std::string& content);

// On SIGINT/SIGTERM: remove every registered temporary file, then die of the signal.
void install_interrupt_cleanup();

bool is_temp_name(const std::string& filename);  // names TempPath creates

}  // namespace untangle
