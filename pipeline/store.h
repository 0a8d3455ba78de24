// The content-addressed artifact cache: one HDF5 file per node run, named by its key. Files
// are immutable once renamed into place, so any number of processes may share a cache
// directory: writers never collide (temporary names), readers never see a partial entry.
#pragma once
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/schema.h"

namespace untangle {

struct EntryInfo {
  std::string key;
  std::string op;
  int op_version = 0;
  std::string node;    // the instance that first produced it
  std::string params;  // YAML
  std::string inputs;  // YAML: port → content digests of what was read
  double seconds = 0;  // wall time of the op
  std::string timings; // YAML: the op's own wall-clock figures (OpContext::timings); not content
  std::string created; // UTC, ISO 8601
  std::map<std::string, std::string> digests;  // output port → content digest
};

struct DatasetInfo {
  std::string name;
  DType dtype;
  std::vector<std::size_t> shape;
  std::string digest;
};

// A cache file that exists but cannot be trusted: unreadable, or its data no longer matches
// its recorded digest.
struct DamagedEntry : std::runtime_error {
  DamagedEntry(std::string key_, const std::string& why)
      : std::runtime_error(why), key(std::move(key_)) {}
  std::string key;
};

struct GcOptions {
  double max_age_days = 30;   // unreferenced entries unused for longer are removed
  bool unreferenced = false;  // remove every entry no recorded graph run refers to
  bool verify = false;        // read every entry in full and remove damaged ones
  bool dry_run = false;
};

struct GcReport {
  std::size_t kept = 0, removed = 0, damaged = 0, temporaries = 0;
  std::uintmax_t bytes_freed = 0;
};

class Store {
 public:
  explicit Store(std::string root);
  const std::string& root() const { return root_; }
  std::string path_of(const std::string& key) const;
  std::string file_memo_dir() const;  // where file digests are remembered

  enum class State { missing, ok, damaged };
  // The check made for every node on every run: the entry exists, whole (its size is the one
  // recorded when it was written), with its output digests and run time in `info`. Data is
  // verified when read.
  State lookup(const std::string& key, EntryInfo* info = nullptr, std::string* why = nullptr) const;
  // Opens the HDF5 file itself: all metadata, with HDF5's header checksums and the recorded
  // key checked.
  State inspect(const std::string& key, EntryInfo* info = nullptr, std::string* why = nullptr) const;
  // Throws DamagedEntry. `digest`: the tensor's, once its bytes matched the one recorded.
  Tensor read(const std::string& key, const std::string& port, std::string* digest = nullptr) const;
  std::vector<DatasetInfo> datasets(const std::string& key) const;
  void write(const EntryInfo& info, const Outputs& outputs);
  void discard(const std::string& key);  // removes a damaged entry
  void touch(const std::string& key);    // marks an entry as used now, for gc

  // Which keys a graph's latest run used; gc keeps them.
  void record_refs(const std::string& graph_path, const std::vector<std::string>& keys, bool merge);
  GcReport gc(const GcOptions& opts, const std::function<void(const std::string&)>& say);

 private:
  std::string root_;
};

std::string default_cache_dir();  // $UNTANGLE_CACHE or .untangle/cache

// Plain HDF5 files for programs outside untangle (exec): a dataset per name at the root, typed
// as the cache types them, with HDF5's file locking off as for entries. Reading refuses a type
// the cache cannot hold (a wider unsigned integer, an enum, fixed-length strings), naming the
// dataset; the messages leave naming the file to the caller.
void write_h5_file(const std::string& path, const Outputs& datasets);
Outputs read_h5_file(const std::string& path);
// The same from a file's bytes in memory (HDF5's file image); `name` stands for the file.
Outputs read_h5_image(const std::string& image, const std::string& name);

}  // namespace untangle
