#include "pipeline/store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <hdf5.h>

#include "pipeline/atomic_file.h"
#include "pipeline/h5_stored.h"
#include "pipeline/hash.h"

namespace fs = std::filesystem;

namespace untangle {

namespace {

// Owns one HDF5 identifier.
class Hid {
 public:
  Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Hid() {
    if (id_ >= 0) close_(id_);
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  operator hid_t() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

struct H5Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(herr_t rc, const std::string& what) {
  if (rc < 0) throw H5Failure(what);
}

// Error printing is per thread.
void quiet() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// Entries never change after they are renamed into place, so HDF5's file locking protects
// nothing here and fails on some shared file systems. It is switched off in each file's
// access properties rather than by HDF5_USE_FILE_LOCKING: setenv is unsafe once threads run.
void no_file_locking(hid_t fapl) { check(H5Pset_file_locking(fapl, false, true), "file access properties"); }

hid_t native(DType t) {
  switch (t) {
    case DType::u8: return H5T_NATIVE_UINT8;
    case DType::i8: return H5T_NATIVE_INT8;
    case DType::i16: return H5T_NATIVE_INT16;
    case DType::i32: return H5T_NATIVE_INT32;
    case DType::i64: return H5T_NATIVE_INT64;
    case DType::f32: return H5T_NATIVE_FLOAT;
    case DType::f64: return H5T_NATIVE_DOUBLE;
    case DType::str: break;
  }
  throw std::logic_error("no native HDF5 type for strings");
}

DType dtype_from(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_STRING) return DType::str;
  if (cls == H5T_FLOAT) return size == 4 ? DType::f32 : DType::f64;
  if (cls == H5T_INTEGER) {
    const bool sign = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 1) return sign ? DType::i8 : DType::u8;
    if (size == 2) return DType::i16;
    if (size == 4) return DType::i32;
    if (size == 8) return DType::i64;
  }
  throw H5Failure("unsupported dataset type");
}

void write_string_attr(hid_t obj, const char* name, const std::string& value) {
  Hid type(H5Tcopy(H5T_C_S1), H5Tclose);
  check(H5Tset_size(type, std::max<std::size_t>(value.size(), 1)), "string type");
  check(H5Tset_cset(type, H5T_CSET_UTF8), "string type");
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  Hid attr(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) throw H5Failure(std::string("cannot create attribute ") + name);
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  check(H5Awrite(attr, type, padded.data()), std::string("cannot write attribute ") + name);
}

void write_number_attr(hid_t obj, const char* name, double value) {
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  Hid attr(H5Acreate2(obj, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) throw H5Failure(std::string("cannot create attribute ") + name);
  check(H5Awrite(attr, H5T_NATIVE_DOUBLE, &value), std::string("cannot write attribute ") + name);
}

std::string read_string_attr(hid_t obj, const char* name) {
  Hid attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) throw H5Failure(std::string("missing attribute ") + name);
  Hid type(H5Aget_type(attr), H5Tclose);
  if (H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) > 0)
    throw H5Failure(std::string("attribute ") + name + " is not a fixed-length string");
  std::string s(H5Tget_size(type), '\0');
  check(H5Aread(attr, type, s.data()), std::string("cannot read attribute ") + name);
  auto end = s.find('\0');
  if (end != std::string::npos) s.resize(end);
  return s;
}

double read_number_attr(hid_t obj, const char* name) {
  Hid attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) throw H5Failure(std::string("missing attribute ") + name);
  double v = 0;
  check(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), std::string("cannot read attribute ") + name);
  return v;
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Hid open_entry(const std::string& path) {
  quiet();
  static const hid_t fapl = [] {
    hid_t p = H5Pcreate(H5P_FILE_ACCESS);
    no_file_locking(p);
    return p;
  }();
  return Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose);
}

// Members of a group port ("weights/fc1/kernel") become datasets inside HDF5 groups.
hid_t intermediate_groups() {
  static hid_t lcpl = [] {
    hid_t p = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(p, 1);
    return p;
  }();
  return lcpl;
}

void write_dataset(hid_t file, const std::string& name, const Tensor& t) {
  std::vector<hsize_t> dims(t.shape.begin(), t.shape.end());
  Hid space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
            H5Sclose);
  if (t.dtype == DType::str) {
    Hid type(H5Tcopy(H5T_C_S1), H5Tclose);
    check(H5Tset_size(type, H5T_VARIABLE), "string type");
    check(H5Tset_cset(type, H5T_CSET_UTF8), "string type");
    Hid ds(H5Dcreate2(file, name.c_str(), type, space, intermediate_groups(), H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) throw H5Failure("cannot create dataset " + name);
    std::vector<const char*> ptrs;
    for (const auto& s : t.strings) ptrs.push_back(s.c_str());
    if (!ptrs.empty()) check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "cannot write " + name);
    write_string_attr(ds, "digest", t.digest());
    return;
  }
  Hid ds(H5Dcreate2(file, name.c_str(), native(t.dtype), space, intermediate_groups(), H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) throw H5Failure("cannot create dataset " + name);
  if (t.size() > 0)
    check(H5Dwrite(ds, native(t.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.bytes.data()), "cannot write " + name);
  write_string_attr(ds, "digest", t.digest());
}

Tensor read_dataset(hid_t file, const std::string& name, std::string* recorded_digest) {
  Hid ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) throw H5Failure("missing dataset " + name);
  Hid type(H5Dget_type(ds), H5Tclose);
  Hid space(H5Dget_space(ds), H5Sclose);
  Tensor t;
  t.dtype = dtype_from(type);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  t.shape.assign(dims.begin(), dims.end());
  // Shapes come from the file (an exec program writes it): checked before they size anything.
  if (t.dtype != DType::str && !t.shape.empty()) {
    try {
      check_stored_bytes(file, ds, byte_count(t.shape, t.dtype), "dataset " + name);
    } catch (const std::runtime_error& e) {
      throw H5Failure(e.what());
    }
  }
  if (t.dtype != DType::str) {
    Tensor a = Tensor::allocate(t.dtype, t.shape, "dataset " + name);
    t.bytes = std::move(a.bytes);
  } else {
    check_memory(byte_count(t.shape, DType::i64), "dataset " + name);  // a pointer per string
  }
  if (t.dtype == DType::str) {
    Hid mem(H5Tcopy(H5T_C_S1), H5Tclose);
    check(H5Tset_size(mem, H5T_VARIABLE), "string type");
    check(H5Tset_cset(mem, H5Tget_cset(type)), "string type");  // HDF5 converts no character sets
    std::vector<char*> ptrs(t.size(), nullptr);
    if (!ptrs.empty()) {
      check(H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "cannot read " + name);
      for (auto* p : ptrs) t.strings.emplace_back(p ? p : "");
      H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
    }
  } else {
    if (t.size() > 0)
      check(H5Dread(ds, native(t.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.bytes.data()), "cannot read " + name);
  }
  if (recorded_digest) *recorded_digest = read_string_attr(ds, "digest");
  return t;
}

std::map<std::string, std::string> parse_digests(const std::string& yaml) {
  std::map<std::string, std::string> out;
  YAML::Node n = YAML::Load(yaml);
  for (auto it = n.begin(); it != n.end(); ++it) out[it->first.as<std::string>()] = it->second.as<std::string>();
  return out;
}

}  // namespace

std::string default_cache_dir() {
  const char* env = std::getenv("UNTANGLE_CACHE");
  return env && *env ? env : ".untangle/cache";
}

Store::Store(std::string root) : root_(std::move(root)) {}

std::string Store::path_of(const std::string& key) const {
  return root_ + "/objects/" + key.substr(0, 2) + "/" + key + ".h5";
}

std::string Store::file_memo_dir() const {
  std::string dir = root_ + "/files";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return dir;
}

// The sidecar "<key>.meta" repeats what every run needs of an entry (its size, output digests
// and run time) in a form read with one small read instead of opening the HDF5 file: a no-op
// rerun of a thousand nodes would otherwise spend its time inside HDF5. The HDF5 file stays the
// truth; a missing or disagreeing sidecar is rebuilt from it.
namespace {

std::string meta_path(const std::string& entry) { return entry.substr(0, entry.size() - 3) + ".meta"; }

std::string meta_text(std::uintmax_t size, const EntryInfo& info) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.17g", info.seconds);
  std::string s = "untangle-meta 1\nsize " + std::to_string(size) + "\nseconds " + secs + "\n";
  for (const auto& [port, digest] : info.digests) s += port + " " + digest + "\n";
  return s;
}

bool read_meta(const std::string& entry, std::uintmax_t size, EntryInfo& info) {
  std::ifstream in(meta_path(entry));
  std::string line;
  if (!std::getline(in, line) || line != "untangle-meta 1") return false;
  if (!std::getline(in, line) || line != "size " + std::to_string(size)) return false;
  if (!std::getline(in, line) || line.rfind("seconds ", 0) != 0) return false;
  info.seconds = std::strtod(line.c_str() + 8, nullptr);
  info.digests.clear();
  while (std::getline(in, line)) {
    const auto sp = line.rfind(' ');
    if (sp == std::string::npos || line.size() - sp - 1 != 32) return false;
    info.digests[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return true;
}

}  // namespace

Store::State Store::lookup(const std::string& key, EntryInfo* info, std::string* why) const {
  const std::string path = path_of(key);
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) return State::missing;
  EntryInfo local;
  EntryInfo& out = info ? *info : local;
  out.key = key;
  if (read_meta(path, static_cast<std::uintmax_t>(sb.st_size), out)) return State::ok;
  const State s = inspect(key, &out, why);
  if (s == State::ok) {
    try {
      write_file_atomically(meta_path(path), meta_text(static_cast<std::uintmax_t>(sb.st_size), out));
    } catch (const std::exception&) {
      // A read-only cache works without sidecars, only slower.
    }
  }
  return s;
}

Store::State Store::inspect(const std::string& key, EntryInfo* info, std::string* why) const {
  const std::string path = path_of(key);
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) return State::missing;
  try {
    Hid f = open_entry(path);
    if (!f.ok()) throw H5Failure("not a readable HDF5 file (truncated or overwritten?)");
    if (read_string_attr(f, "untangle_key") != key) throw H5Failure("its recorded key does not match its name");
    auto digests = parse_digests(read_string_attr(f, "outputs"));
    if (info) {
      info->key = key;
      info->digests = std::move(digests);
      info->op = read_string_attr(f, "op");
      info->op_version = static_cast<int>(read_number_attr(f, "op_version"));
      info->node = read_string_attr(f, "node");
      info->params = read_string_attr(f, "params");
      info->inputs = read_string_attr(f, "inputs");
      info->seconds = read_number_attr(f, "wall_time_s");
      info->timings = H5Aexists(f, "timings") > 0 ? read_string_attr(f, "timings") : std::string();
      info->created = read_string_attr(f, "created");
    }
    return State::ok;
  } catch (const std::exception& e) {
    if (why) *why = path + ": " + e.what();
    return State::damaged;
  }
}

Tensor Store::read(const std::string& key, const std::string& port, std::string* digest) const {
  const std::string path = path_of(key);
  try {
    Hid f = open_entry(path);
    if (!f.ok()) throw H5Failure("not a readable HDF5 file");
    std::string recorded;
    Tensor t = read_dataset(f, port, &recorded);
    if (t.digest() != recorded) throw H5Failure("dataset '" + port + "' does not match its checksum");
    if (digest) *digest = recorded;
    return t;
  } catch (const H5Failure& e) {
    throw DamagedEntry(key, path + ": " + e.what());
  } catch (const YAML::Exception& e) {
    throw DamagedEntry(key, path + ": " + e.what());
  }
}

std::vector<DatasetInfo> Store::datasets(const std::string& key) const {
  EntryInfo info;
  std::string why;
  if (lookup(key, &info, &why) != State::ok) throw DamagedEntry(key, why);
  Hid f = open_entry(path_of(key));
  std::vector<DatasetInfo> out;
  for (const auto& [port, digest] : info.digests) {
    Hid ds(H5Dopen2(f, port.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) throw DamagedEntry(key, path_of(key) + ": missing dataset " + port);
    Hid type(H5Dget_type(ds), H5Tclose);
    Hid space(H5Dget_space(ds), H5Sclose);
    DatasetInfo d{port, dtype_from(type), {}, digest};
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(rank > 0 ? rank : 0);
    if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    d.shape.assign(dims.begin(), dims.end());
    out.push_back(d);
  }
  return out;
}

void Store::write(const EntryInfo& info, const Outputs& outputs) {
  quiet();
  const std::string path = path_of(info.key);
  make_directories(fs::path(path).parent_path());
  TempPath tmp(path);
  {
    // 1.8+ object headers carry checksums, so a damaged header is caught on open.
    Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    check(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST), "file access properties");
    no_file_locking(fapl);
    hid_t created = -1;
    tmp.create([&](const std::string& p) { created = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl); });
    Hid f(created, H5Fclose);
    if (!f.ok()) throw std::runtime_error(tmp.path() + ": cannot create cache file");
    YAML::Emitter digests;
    digests << YAML::BeginMap;
    for (const auto& [port, t] : outputs) {
      write_dataset(f, port, t);
      digests << YAML::Key << port << YAML::Value << t.digest();
    }
    digests << YAML::EndMap;
    write_string_attr(f, "untangle_key", info.key);
    write_string_attr(f, "op", info.op);
    write_number_attr(f, "op_version", info.op_version);
    write_string_attr(f, "node", info.node);
    write_string_attr(f, "params", info.params);
    write_string_attr(f, "inputs", info.inputs);
    write_number_attr(f, "wall_time_s", info.seconds);
    if (!info.timings.empty()) write_string_attr(f, "timings", info.timings);
    write_string_attr(f, "created", now_utc());
    write_string_attr(f, "outputs", outputs.empty() ? "{}" : digests.c_str());
    check(H5Fflush(f, H5F_SCOPE_LOCAL), "flush");
  }
  tmp.commit();
  EntryInfo with_digests = info;
  for (const auto& [port, t] : outputs) with_digests.digests[port] = t.digest();
  write_file_atomically(meta_path(path), meta_text(fs::file_size(path), with_digests));
}

void Store::discard(const std::string& key) {
  std::error_code ec;
  fs::remove(meta_path(path_of(key)), ec);
  fs::remove(path_of(key), ec);
}

void Store::touch(const std::string& key) {
  // Last use is the file's mtime; failure (a read-only cache) only makes gc less precise.
  (void)::utimensat(AT_FDCWD, path_of(key).c_str(), nullptr, 0);
}

void Store::record_refs(const std::string& graph_path, const std::vector<std::string>& keys, bool merge) {
  std::error_code ec;
  const std::string abs = fs::absolute(graph_path, ec).lexically_normal().string();
  const std::string dir = root_ + "/refs";
  make_directories(dir);
  const std::string file = dir + "/" + hash_text(abs) + ".keys";
  std::set<std::string> all(keys.begin(), keys.end());
  if (merge) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#') all.insert(line);
  }
  std::string text = "# keys used by the latest run of " + abs + "\n";
  for (const auto& k : all) text += k + "\n";
  write_file_atomically(file, text);
}

GcReport Store::gc(const GcOptions& opts, const std::function<void(const std::string&)>& say) {
  GcReport r;
  std::set<std::string> referenced;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ + "/refs", ec)) {
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#') referenced.insert(line);
  }
  const auto now = fs::file_time_type::clock::now();
  auto age_days = [&](const fs::path& p) {
    std::error_code e2;
    auto t = fs::last_write_time(p, e2);
    return e2 ? 0.0 : std::chrono::duration<double>(now - t).count() / 86400.0;
  };
  auto remove = [&](const fs::path& p, const std::string& why) {
    std::error_code e2;
    const auto size = fs::file_size(p, e2);
    say((opts.dry_run ? "would remove " : "removed ") + p.string() + " (" + why + ")");
    if (!opts.dry_run) fs::remove(p, e2);
    r.bytes_freed += e2 ? 0 : size;
  };
  auto drop_sidecar = [&](const fs::path& entry) {
    std::error_code e2;
    if (!opts.dry_run) fs::remove(meta_path(entry.string()), e2);
  };
  for (const auto& e : fs::recursive_directory_iterator(root_ + "/objects", ec)) {
    if (!e.is_regular_file()) continue;
    if (e.path().extension() == ".meta") {  // a sidecar whose entry is gone
      std::error_code e2;
      fs::path entry = e.path();
      if (!fs::exists(entry.replace_extension(".h5"), e2) && !opts.dry_run) fs::remove(e.path(), e2);
      continue;
    }
    const std::string name = e.path().filename().string();
    if (is_temp_name(name)) {
      // A writer may still be working on a young one; an old one was left by a crash.
      if (age_days(e.path()) > 1.0 / 24) {
        remove(e.path(), "left by an interrupted write");
        ++r.temporaries;
      }
      continue;
    }
    if (e.path().extension() != ".h5") continue;
    const std::string key = e.path().stem().string();
    std::string why;
    State s = inspect(key, nullptr, &why);
    if (s == State::ok && opts.verify) {
      try {
        EntryInfo info;
        inspect(key, &info);
        for (const auto& d : info.digests) read(key, d.first);
      } catch (const DamagedEntry& d) {
        s = State::damaged;
        why = d.what();
      }
    }
    if (s == State::damaged) {
      remove(e.path(), "damaged");
      drop_sidecar(e.path());
      ++r.damaged;
      continue;
    }
    const bool ref = referenced.count(key) > 0;
    if (!ref && (opts.unreferenced || age_days(e.path()) > opts.max_age_days)) {
      remove(e.path(), opts.unreferenced ? "not used by any graph's latest run" : "unused for over " + std::to_string(static_cast<int>(opts.max_age_days)) + " days");
      drop_sidecar(e.path());
      ++r.removed;
    } else {
      ++r.kept;
    }
  }
  return r;
}

void write_h5_file(const std::string& path, const Outputs& datasets) {
  quiet();
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  no_file_locking(fapl);
  Hid f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose);
  if (!f.ok()) throw std::runtime_error("cannot create " + path);
  try {
    for (const auto& [name, t] : datasets) write_dataset(f, name, t);
  } catch (const H5Failure& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

namespace {

Outputs read_h5(hid_t fapl, const std::string& path) {
  Hid f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose);
  if (!f.ok()) throw std::runtime_error("not an HDF5 file");
  H5G_info_t info{};
  check(H5Gget_info(f, &info), "cannot list its datasets");
  Outputs out;
  for (hsize_t k = 0; k < info.nlinks; ++k) {
    const ssize_t len = H5Lget_name_by_idx(f, ".", H5_INDEX_NAME, H5_ITER_INC, k, nullptr, 0, H5P_DEFAULT);
    std::string name(len > 0 ? len : 0, '\0');
    H5Lget_name_by_idx(f, ".", H5_INDEX_NAME, H5_ITER_INC, k, name.data(), name.size() + 1, H5P_DEFAULT);
    Hid ds(H5Dopen2(f, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) throw std::runtime_error(path + ": '" + name + "' is not a dataset");
    Hid type(H5Dget_type(ds), H5Tclose);
    // dtype_from knows the cache's own types only; others would be converted with loss.
    const bool wide_unsigned = H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) > 1 && H5Tget_sign(type) != H5T_SGN_2;
    const H5T_class_t cls = H5Tget_class(type);
    const bool fixed_string = cls == H5T_STRING && H5Tis_variable_str(type) <= 0;
    if (wide_unsigned || fixed_string || (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_STRING))
      throw std::runtime_error("dataset '" + name + "' has a type untangle does not hold (int8 to int64, uint8, float32, float64)");
    out[name] = read_dataset(f, name, nullptr);
  }
  return out;
}

}  // namespace

Outputs read_h5_file(const std::string& path) {
  quiet();
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  no_file_locking(fapl);
  return read_h5(fapl, path);
}

Outputs read_h5_image(const std::string& image, const std::string& name) {
  quiet();
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // The core driver reads from memory; without a backing store nothing is ever written.
  H5Pset_fapl_core(fapl, 1 << 16, 0);
  H5Pset_file_image(fapl, const_cast<char*>(image.data()), image.size());
  return read_h5(fapl, name);
}

}  // namespace untangle
