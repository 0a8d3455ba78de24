#include "nodes/data/hdf5_child.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "pipeline/process.h"

namespace untangle {

namespace {

namespace fs = std::filesystem;

// The stream: a line that names it, then per tensor 'T', its name (u64 length, bytes), dtype
// (u8), rank (u8), dims (u64 each), then its data (numeric: its bytes; strings: u64 length and
// bytes each), and 'E' after the last. Integers in native order: both ends are this machine.
const char kMagic[] = "untangle-tensors 1\n";

void put(std::FILE* out, const void* p, std::size_t n) {
  if (n > 0 && std::fwrite(p, 1, n, out) != n) throw std::runtime_error("cannot write the tensors");
}
void put_u64(std::FILE* out, std::uint64_t v) { put(out, &v, sizeof v); }

struct Cursor {
  const std::string& s;
  std::size_t at = 0;
  std::size_t left() const { return s.size() - at; }
  void need(std::size_t n) const {
    if (left() < n) throw std::runtime_error("the tensors end early");
  }
  const char* take(std::size_t n) {
    need(n);
    const char* p = s.data() + at;
    at += n;
    return p;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(*take(1)); }
  std::uint64_t u64() {
    std::uint64_t v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
};

}  // namespace

void write_tensors(std::FILE* out, const Outputs& tensors) {
  put(out, kMagic, sizeof kMagic - 1);
  for (const auto& [name, t] : tensors) {
    put(out, "T", 1);
    put_u64(out, name.size());
    put(out, name.data(), name.size());
    const std::uint8_t dtype = static_cast<std::uint8_t>(t.dtype), rank = static_cast<std::uint8_t>(t.shape.size());
    put(out, &dtype, 1);
    put(out, &rank, 1);
    for (std::size_t d : t.shape) put_u64(out, d);
    if (t.dtype == DType::str) {
      for (const auto& s : t.strings) {
        put_u64(out, s.size());
        put(out, s.data(), s.size());
      }
    } else {
      put(out, t.bytes.data(), t.bytes.size());
    }
  }
  put(out, "E", 1);
  if (std::fflush(out) != 0) throw std::runtime_error("cannot write the tensors");
}

Outputs read_tensors(const std::string& stream, std::size_t max_bytes) {
  Cursor c{stream};
  if (std::memcmp(c.take(sizeof kMagic - 1), kMagic, sizeof kMagic - 1) != 0)
    throw std::runtime_error("not a stream of tensors");
  Outputs out;
  while (true) {
    const char tag = *c.take(1);
    if (tag == 'E') break;
    if (tag != 'T') throw std::runtime_error("a damaged stream of tensors");
    const std::uint64_t name_size = c.u64();
    c.need(name_size);
    const std::string name(c.take(name_size), name_size);
    const std::uint8_t dtype = c.u8(), rank = c.u8();
    if (dtype > static_cast<std::uint8_t>(DType::str)) throw std::runtime_error("a damaged stream of tensors");
    if (rank > kMaxRank) throw std::runtime_error("tensor '" + name + "' has too many dimensions");
    c.need(8 * std::size_t{rank});
    std::vector<std::size_t> shape(rank);
    for (auto& d : shape) d = c.u64();
    Tensor t;
    if (static_cast<DType>(dtype) == DType::str) {
      const std::size_t n = element_count(shape);
      if (n > c.left() / 8) throw std::runtime_error("the tensors end early");  // a length per string
      t.dtype = DType::str;
      t.shape = shape;
      t.strings.reserve(n);
      for (std::size_t k = 0; k < n; ++k) {
        const std::uint64_t len = c.u64();
        c.need(len);
        t.strings.emplace_back(c.take(len), len);
      }
    } else {
      c.need(byte_count(shape, static_cast<DType>(dtype)));  // before anything is allocated
      t = Tensor::allocate(static_cast<DType>(dtype), shape, "dataset '" + name + "'", max_bytes);
      const char* data = c.take(t.bytes.size());
      if (!t.bytes.empty()) std::memcpy(t.bytes.data(), data, t.bytes.size());  // data() may be null when empty
    }
    out[name] = std::move(t);
  }
  if (c.left() != 0) throw std::runtime_error("a damaged stream of tensors");
  return out;
}

std::string hdf5_reader_path() {
  static const std::string path = [] {
    std::error_code ec;
    const fs::path beside = fs::canonical("/proc/self/exe", ec).parent_path() / "untangle-read-hdf5";
    if (!ec && ::access(beside.c_str(), X_OK) == 0) return beside.string();
    return std::string(UNTANGLE_BUILD_READER);
  }();
  return path;
}

namespace {

// Runs untangle-read-hdf5 with `args` and returns what it sent; its error message, or how it
// died, becomes the error, `what` (the file) first.
Outputs run_reader(const std::vector<std::string>& args, const std::string& what, std::size_t max_bytes) {
  const std::string reader = hdf5_reader_path();
  if (::access(reader.c_str(), X_OK) != 0)
    throw std::runtime_error(what + ": cannot read HDF5 files: untangle-read-hdf5, which reads them, is not beside " +
                             fs::canonical("/proc/self/exe").string() + " (" + reader + ")");
  ProcessSpec spec;
  spec.argv = {reader};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = environment({});
  std::string stream, errors;
  spec.on_stdout_bytes = [&](const char* p, std::size_t n) { stream.append(p, n); };
  spec.on_stderr = [&](const std::string& line) { errors += (errors.empty() ? "" : "\n") + line; };
  const ProcessEnd end = run_process(spec);
  if (WIFSIGNALED(end.status))
    throw std::runtime_error(what + ": libhdf5 failed reading it (" + end.describe("untangle-read-hdf5") +
                             "); the file is damaged or not what it claims");
  if (!end.exited_ok()) throw std::runtime_error(errors.empty() ? end.describe(what + ": untangle-read-hdf5") : errors);
  try {
    return read_tensors(stream, max_bytes);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(what + ": untangle-read-hdf5 sent " + e.what());
  }
}

}  // namespace

Tensor read_hdf5_in_child(const std::string& path, const std::string& dataset, std::size_t max_bytes) {
  Outputs got = run_reader({"dataset", path, dataset, std::to_string(max_bytes)}, path, max_bytes);
  if (got.size() != 1 || !got.count(dataset)) throw std::runtime_error(path + ": untangle-read-hdf5 sent other tensors");
  return std::move(got.at(dataset));
}

Outputs read_h5_file_in_child(const std::string& path) { return run_reader({"file", path}, path, 0); }

}  // namespace untangle
