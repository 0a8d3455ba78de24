#include <doctest/doctest.h>

// Every bad input of the data loaders and of `exec`, through the real binary as a user meets
// it, one table per op. Each case writes its fixture files and a graph into a fresh directory
// whose cache already holds a good graph's entries, runs the graph and checks
//   - the exit code: 1 when a node fails at run time, 2 when the graph is refused as it is
//     planned (a located `FILE:LINE:COL: error:`);
//   - the exact error text, naming the file (or program) and what is wrong;
//   - that the cache's entries are exactly as they were: nothing cached for the bad node,
//     nothing of the good graph removed or damaged, and the good nodes still read as cached.
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tests/checks.h"
#include "tests/h5_files.h"
#include "tests/helpers.h"
#include "tests/idx_files.h"
#include "tests/npy_files.h"

using namespace untangle;
using namespace untangle::test;
namespace fs = std::filesystem;

namespace {

// Only the cache's entries, `objects/` (entries and their .meta sidecars), are compared. The
// rest may change on any run, whatever its inputs: `refs/` holds the keys of each graph's latest
// run (for gc) and is rewritten by every run, `files/` remembers data files' digests by size,
// mtime, inode and ctime (a bad file is hashed like a good one before its loader finds it bad),
// and a cache hit sets its entry's mtime (gc's "last used"), which is why times are not compared.

// The good graph: a loader, a consumer, an exec node and a constant. Every bad graph starts
// with these nodes, so its run finds them cached and must leave their entries alone.
const char* const kGoodNodes[] = {"c", "good_csv", "good_stats", "good_idx", "good_exec"};

std::string good_nodes(const std::string& dir) {
  return "nodes:\n"
         "  c: {op: constant, params: {value: 1.5}}\n"
         "  good_csv: {op: load_csv, params: {file: " + dir + "/good.csv, label: 3}}\n"
         "  good_stats: {op: describe, inputs: {x: good_csv.x, y: good_csv.y}}\n"
         "  good_idx: {op: load_idx, params: {x: " + dir + "/good.idx}}\n"
         "  good_exec: {op: exec, params: {command: [sh, -c, 'echo hello'], outputs: {}}}\n";
}

#if defined(__has_feature)
#define UNTANGLE_CLANG_ASAN __has_feature(address_sanitizer)
#else
#define UNTANGLE_CLANG_ASAN 0
#endif

// Every run is bounded: a loader that believes a file's sizes, or inflates without limit, hits
// this and fails the case instead of taking the machine. Under AddressSanitizer, which reserves
// terabytes of address space, ASan's own allocation limit does the same job.
#if defined(__SANITIZE_ADDRESS__) || UNTANGLE_CLANG_ASAN
const std::string kBounded =
    "export ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:allocator_may_return_null=1:max_allocation_size_mb=4000\"; ";
// The header declares more than the limit: refused before anything is allocated, or (without
// the limit) allocated only as far as the data that comes.
const std::string kAddressSpaceMessage =
    "{dir}/x.gz: truncated IDX file (shape [4200000000] needs 4200000000 bytes of data, file has 64)";
#else
const std::string kBounded = "ulimit -v 4000000; ";
const std::string kAddressSpaceMessage =
    "{dir}/x.gz: shape [4200000000] of uint8 needs 3.9 GiB (4200000000 bytes), more than this process may address "
    "with ulimit -v: 3.8 GiB (4096000000 bytes)";
#endif

CommandResult untangle_run(const std::string& graph, const std::string& cache) {
  return run_command(kBounded + "exec " + std::string(UNTANGLE_BINARY) + " run " + graph + " --cache " + cache);
}

// The good graph run once in a cache of its own, which each case copies: its entries are the
// "before" of every case.
struct GoodCache {
  TempDir dir;
  std::string cache = dir / "cache";
  Snapshot entries;
  GoodCache() {
    write_file(dir / "good.csv", "a,b,class\n1,2,0\n3,4,1\n");
    write_bytes(dir / "good.idx", idx(0x08, {2, 2}, {1, 2, 3, 4}));
    write_file(dir / "good.yaml", good_nodes(dir.path));
    const auto r = untangle_run(dir / "good.yaml", cache);
    if (r.code != 0 || last_line(r.out) != "done: 5 ran, 0 cached, 0 failed")
      throw std::runtime_error("the good graph failed:\n" + r.out + r.err);
    entries = snapshot(cache + "/objects");
  }
};

const GoodCache& good_cache() {
  static const GoodCache good;
  return good;
}

std::string replaced(std::string text, const std::string& dir) {
  for (auto at = text.find("{dir}"); at != std::string::npos; at = text.find("{dir}", at + dir.size()))
    text.replace(at, 5, dir);
  return text;
}

struct Bad {
  std::string name;                                   // what is wrong
  std::function<void(const std::string& dir)> write;  // the fixture files, into the case's directory
  std::string node;                                   // the bad node, as YAML; {dir}: that directory
  int code;                                           // 1: fails at run time; 2: a bad graph
  std::string error;                                  // the whole message; {dir} as above
  std::string at = "";                                // code 2: the text whose line and column it names
};

// The text of node `bad`'s failure: from its FAILED line up to the next line of the run's log
// (an exec failure's stderr lines follow, indented).
std::string failure_of(const std::string& out) {
  const std::string mark = "  FAILED  bad: ";
  const auto at = out.find(mark);
  if (at == std::string::npos) return "<no FAILED line for bad>";
  std::string text;
  bool first = true;
  for (const auto& line : lines_of(out.substr(at + mark.size()))) {
    if (!first && (line.rfind("  skipped ", 0) == 0 || line.rfind("  FAILED  ", 0) == 0 ||
                   line.rfind("  cached  ", 0) == 0 || line.rfind("  ran     ", 0) == 0 ||
                   line.rfind("  start   ", 0) == 0 || line.rfind("done: ", 0) == 0))
      break;
    text += (first ? "" : "\n") + line;
    first = false;
  }
  return text;
}

// `FILE:LINE:COL` of the first occurrence of `what` in the file's text.
std::string located(const std::string& file, const std::string& text, const std::string& what) {
  const auto at = text.find(what);
  REQUIRE_MESSAGE(at != std::string::npos, what << " is not in the graph");
  const auto line_start = text.rfind('\n', at);
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + at, '\n'));
  const std::size_t col = at - (line_start == std::string::npos ? 0 : line_start + 1) + 1;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

// Runs one case: `consumer` reads the bad node's output (it is skipped when the node fails).
void check(const Bad& c, const std::string& consumer) {
  const GoodCache& good = good_cache();
  TempDir dir;
  const std::string cache = dir / "cache";
  fs::copy(good.cache, cache, fs::copy_options::recursive);
  const Snapshot before = snapshot(cache + "/objects");
  REQUIRE(before == good.entries);
  REQUIRE(before.size() == 2 * std::size(kGoodNodes));  // an entry and its sidecar per node

  c.write(dir.path);
  const std::string graph = dir / "bad.yaml";
  const std::string text = good_nodes(good.dir.path) + "  bad: " + replaced(c.node, dir.path) + "\n" + consumer;
  write_file(graph, text);
  const auto r = untangle_run(graph, cache);
  const std::string error = replaced(c.error, dir.path);

  CHECK(r.code == c.code);
  if (c.code == 1) {
    CHECK(failure_of(r.out) == error);
    for (const char* name : kGoodNodes) CHECK_CONTAINS(r.out, "  cached  " + std::string(name) + "\n");
    CHECK(last_line(r.out) == "done: 0 ran, 5 cached, 1 failed, 1 skipped");
    // The message is on stdout, once; nothing else, such as a library's error stack, on stderr.
    CHECK(r.err == "");
  } else {
    CHECK(r.err == located(graph, text, c.at) + ": error: " + error + "\n1 error in " + graph + "\n");
    CHECK(r.out == "");
  }
  CHECK_MESSAGE(difference(before, snapshot(cache + "/objects")).empty(), difference(before, snapshot(cache + "/objects")));
}

const std::string kReadsX = "  after: {op: describe, inputs: {x: bad.x}}\n";
const std::string kReadsS = "  after: {op: add, inputs: {a: bad.s}}\n";

void check_all(const std::vector<Bad>& cases, const std::string& consumer) {
  for (const auto& c : cases) {
    SUBCASE(c.name.c_str()) { check(c, consumer); }
  }
}

bool has_h5py() { return run_command("/usr/bin/python3 -c 'import h5py'").code == 0; }

}  // namespace

TEST_CASE("bad inputs: load_idx") {
  const Bytes images = idx(0x08, {3, 2}, Bytes(6, 1));
  const std::string both = "{op: load_idx, params: {x: {dir}/x, y: {dir}/y}}";
  check_all(
      {
          {"a truncated label file",
           [&](const std::string& d) {
             write_bytes(d + "/x", images);
             write_bytes(d + "/y", idx(0x08, {3}, {1, 2}));
           },
           both, 1, "{dir}/y: truncated IDX file (shape [3] needs 3 bytes of data, file has 2)"},
          {"a truncated header",
           [](const std::string& d) { write_bytes(d + "/x", {0, 0, 8, 3, 0, 0}); },
           "{op: load_idx, params: {x: {dir}/x}}", 1, "{dir}/x: truncated IDX file (header needs 16 bytes, file has 6)"},
          {"bytes after the data",
           [](const std::string& d) { write_bytes(d + "/x", idx(0x08, {2}, {1, 2, 3})); },
           "{op: load_idx, params: {x: {dir}/x}}", 1, "{dir}/x: 1 unexpected bytes after the data of shape [2]"},
          {"a truncated .gz file",
           [](const std::string& d) {
             write_gz(d + "/x.gz", idx(0x0C, {2}, Bytes(8, 0)));
             fs::resize_file(d + "/x.gz", fs::file_size(d + "/x.gz") - 12);
           },
           "{op: load_idx, params: {x: {dir}/x.gz}}", 1, "{dir}/x.gz: cannot decompress: unexpected end of file"},
          {"a wrong magic number",
           [](const std::string& d) { write_bytes(d + "/x", {1, 2, 3, 4, 5}); },
           "{op: load_idx, params: {x: {dir}/x}}", 1, "{dir}/x: not an IDX file (magic number 0x01020304)"},
          {"an unsupported element type",
           [](const std::string& d) { write_bytes(d + "/x", idx(0x0A, {1}, {0})); },
           "{op: load_idx, params: {x: {dir}/x}}", 1, "{dir}/x: unknown IDX data type in magic number 0x00000a01"},
          {"fewer labels than images",
           [&](const std::string& d) {
             write_bytes(d + "/x", images);
             write_bytes(d + "/y", idx(0x08, {2}, {1, 2}));
           },
           both, 1, "{dir}/y: 2 labels, but {dir}/x has 3 rows"},
          {"a shape whose byte count overflows",
           [](const std::string& d) { write_bytes(d + "/x", idx(0x08, {65536, 65536, 65536, 65536}, Bytes(10, 0))); },
           "{op: load_idx, params: {x: {dir}/x}}", 1,
           "{dir}/x: shape [65536, 65536, 65536, 65536] of uint8 needs more than 2^64 bytes"},
          {"a shape larger than the file, with its true size",
           [](const std::string& d) { write_bytes(d + "/x", idx(0x08, {65536, 65536}, Bytes(10, 0))); },
           "{op: load_idx, params: {x: {dir}/x}}", 1,
           "{dir}/x: truncated IDX file (shape [65536, 65536] needs 4294967296 bytes of data, file has 10)"},
          {"more dimensions than a tensor holds",
           [](const std::string& d) { write_bytes(d + "/x", idx(0x08, std::vector<std::uint32_t>(255, 1), {7})); },
           "{op: load_idx, params: {x: {dir}/x}}", 1,
           "{dir}/x: IDX rank 255 in magic number 0x000008ff: more dimensions than a tensor holds (32)"},
          {"a .gz that inflates far past its header's size",
           [](const std::string& d) {
             // 4,096 gzip members of 1 MiB of zeros each: 4 GiB inflated from a few MB, after
             // a header that declares one byte.
             write_gz(d + "/one.gz", idx(0x08, {1}, {7}));
             write_gz(d + "/zeros.gz", Bytes(1 << 20, 0));
             const std::string member = read_file(d + "/zeros.gz");
             std::string bomb = read_file(d + "/one.gz");
             for (int i = 0; i < 4096; ++i) bomb += member;
             write_file(d + "/x.gz", bomb);
           },
           "{op: load_idx, params: {x: {dir}/x.gz}}", 1,
           "{dir}/x.gz: more than 1048576 unexpected bytes after the data of shape [1]"},
          {"a .gz whose header declares more than the process may address",
           [](const std::string& d) { write_gz(d + "/x.gz", idx(0x08, {4200000000u}, Bytes(64, 0))); },
           "{op: load_idx, params: {x: {dir}/x.gz}}", 1,
           kAddressSpaceMessage},
          {"a file larger than max_bytes",
           [](const std::string& d) { write_bytes(d + "/x", idx(0x08, {100, 100}, Bytes(10000, 0))); },
           "{op: load_idx, params: {x: {dir}/x, max_bytes: 9999}}", 1,
           "{dir}/x: shape [100, 100] of uint8 needs 9.8 KiB (10000 bytes), more than max_bytes = 9999"},
          {"a missing label file",
           [&](const std::string& d) { write_bytes(d + "/x", images); },
           both, 1, "missing file {dir}/y"},
      },
      kReadsX);
}

TEST_CASE("bad inputs: load_npy") {
  const std::string ints = le_bytes<std::int32_t>({1, 2, 3, 4, 5, 6});
  const std::string a = npy("<f4", "(2,)", le_bytes<float>({1, 2}));
  const std::string x = "{op: load_npy, params: {x: {dir}/x.npy}}";
  const std::string npz = "{op: load_npy, params: {x: {dir}/d.npz, x_key: a}}";
  check_all(
      {
          {"an object array, a Python pickle",
           [](const std::string& d) { write_file(d + "/x.npy", npy("|O", "(1,)", "\x80\x04")); },
           x, 1, "{dir}/x.npy: object arrays (dtype '|O', Python pickles) are not read, for safety"},
          {"a bad magic",
           [&](const std::string& d) { write_file(d + "/x.npy", "\x93NUMPZ\x01\x00" + ints); },
           x, 1, "{dir}/x.npy: not an .npy file (bad magic)"},
          {"truncated data",
           [&](const std::string& d) { write_file(d + "/x.npy", npy("<i4", "(2, 3)", ints.substr(0, 20))); },
           x, 1, "{dir}/x.npy: truncated .npy file: shape [2, 3] of <i4 needs 24 bytes of data, the file has 20"},
          {"a truncated header",
           [&](const std::string& d) { write_file(d + "/x.npy", npy("<i4", "(2, 3)", ints).substr(0, 40)); },
           x, 1, "{dir}/x.npy: truncated .npy file (header)"},
          {"a header shape smaller than the data",
           [&](const std::string& d) { write_file(d + "/x.npy", npy("<i4", "(2, 2)", ints)); },
           x, 1, "{dir}/x.npy: 8 bytes after the data of shape [2, 2] of <i4"},
          {"an unsupported dtype",
           [](const std::string& d) { write_file(d + "/x.npy", npy("<c16", "(1,)", std::string(16, '\0'))); },
           x, 1,
           "{dir}/x.npy: dtype '<c16' has no matching tensor type (supported: bool, int8-64, uint8-32, float32, float64)"},
          {"an array name the .npz does not hold",
           [&](const std::string& d) { write_file(d + "/d.npz", zip({{"b.npy", a, false}, {"c.npy", a, true}})); },
           npz, 1, "{dir}/d.npz: no array 'a' (the archive holds: b, c)"},
          {"no array name for an .npz",
           [&](const std::string& d) { write_file(d + "/d.npz", zip({{"a.npy", a, false}, {"b.npy", a, true}})); },
           "{op: load_npy, params: {x: {dir}/d.npz}}", 1,
           "{dir}/d.npz: an .npz archive: name one of its arrays (it holds: a, b)"},
          {"a corrupt deflate stream",
           [&](const std::string& d) {
             std::string z = zip({{"a.npy", a, true}});
             z[30 + 5] = '\xff';  // the member's first deflate block: final, of the reserved type 3
             write_file(d + "/d.npz", z);
           },
           npz, 1, "{dir}/d.npz, array 'a': cannot inflate (damaged or truncated deflate data)"},
          {"a damaged stored member, CRC mismatch",
           [&](const std::string& d) {
             std::string z = zip({{"a.npy", a, false}});
             z[30 + 5 + 60] ^= 1;  // a data byte past the local header, the name and the .npy header
             write_file(d + "/d.npz", z);
           },
           npz, 1, "{dir}/d.npz, array 'a': CRC mismatch (damaged archive)"},
          {"a bad .npy inside the .npz",
           [](const std::string& d) { write_file(d + "/d.npz", zip({{"a.npy", "not numpy", true}})); },
           npz, 1, "{dir}/d.npz, array 'a': not an .npy file (bad magic)"},
          {"an .npz that is no zip archive",
           [](const std::string& d) { write_file(d + "/d.npz", std::string(40, 'x')); },
           npz, 1, "{dir}/d.npz: not a zip archive (no end of central directory)"},
          // Sizes from the header, checked before they size anything. Each of these once crashed
          // the run: the byte count wrapped to a few bytes, and the data was written far past them.
          {"a shape whose byte count wraps to the data present",
           [](const std::string& d) { write_file(d + "/x.npy", npy("<f4", "(4611686018427387905,)", "abcd")); },
           x, 1, "{dir}/x.npy: shape [4611686018427387905] of <f4 needs more than 2^64 bytes"},
          {"a shape whose byte count wraps to zero",
           [](const std::string& d) { write_file(d + "/x.npy", npy("<f4", "(4611686018427387904,)", "")); },
           x, 1, "{dir}/x.npy: shape [4611686018427387904] of <f4 needs more than 2^64 bytes"},
          {"a 2-D shape whose byte count wraps to zero",
           [](const std::string& d) { write_file(d + "/x.npy", npy("<f4", "(4611686018427387904, 1)", "")); },
           x, 1, "{dir}/x.npy: shape [4611686018427387904, 1] of <f4 needs more than 2^64 bytes"},
          {"a shape whose element count wraps to zero",
           [](const std::string& d) { write_file(d + "/x.npy", npy("|u1", "(4294967296, 4294967296)", "")); },
           x, 1, "{dir}/x.npy: shape [4294967296, 4294967296] has more than 2^64 elements"},
          {"a dimension past 2^64, once read modulo 2^64",
           [](const std::string& d) { write_file(d + "/x.npy", npy("|u1", "(18446744073709551619,)", "abc")); },
           x, 1,
           "{dir}/x.npy: shape dimension 18446744073709551619 is more than 2^64: {'descr': '|u1', 'fortran_order': "
           "False, 'shape': (18446744073709551619,), }"},
          {"a wrapping shape inside an .npz",
           [](const std::string& d) {
             write_file(d + "/d.npz", zip({{"a.npy", npy("<f4", "(4611686018427387905,)", "abcd"), false}}));
           },
           npz, 1, "{dir}/d.npz, array 'a': shape [4611686018427387905] of <f4 needs more than 2^64 bytes"},
          {"an .npz member that declares 4 GiB",
           [&](const std::string& d) {
             std::string z = zip({{"a.npy", a, true}});
             const auto central = z.find("PK\x01\x02");
             for (int b = 0; b < 4; ++b) z[central + 24 + b] = b == 0 ? '\xf0' : '\xff';  // 0xFFFFFFF0 bytes
             write_file(d + "/d.npz", z);
           },
           npz, 1, "{dir}/d.npz, array 'a': the zip declares 4294967280 bytes; the .npy header says the member holds 136"},
          {"an .npz member larger than max_bytes",
           [](const std::string& d) {
             write_file(d + "/d.npz", zip({{"a.npy", npy("<f8", "(1000000,)", std::string(8000000, '\0')), true}}));
           },
           "{op: load_npy, params: {x: {dir}/d.npz, x_key: a, max_bytes: 1000000}}", 1,
           "{dir}/d.npz, array 'a' needs 7.6 MiB (8000128 bytes), more than max_bytes = 1000000"},
          {"a missing file", [](const std::string&) {}, x, 1, "missing file {dir}/x.npy"},
      },
      kReadsX);
}

TEST_CASE("bad inputs: load_hdf5") {
  auto write = [](const std::string& d) {
    const char names[] = "abcdefgh";
    const std::uint64_t big[] = {1, 2};
    const float xs[] = {1, 2, 3};
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    write_h5(d + "/d.h5", {{"/names", str, str, {2}, names},
                           {"/big", H5T_STD_U64LE, H5T_NATIVE_UINT64, {2}, big},
                           {"/g/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {3}, xs}});
    H5Tclose(str);
  };
  check_all(
      {
          {"a missing dataset", write, "{op: load_hdf5, params: {file: {dir}/d.h5, x: /nope}}", 1,
           "{dir}/d.h5: no dataset '/nope'"},
          {"a group named as the dataset", write, "{op: load_hdf5, params: {file: {dir}/d.h5, x: /g}}", 1,
           "{dir}/d.h5: no dataset '/g'"},
          {"a missing label dataset", write, "{op: load_hdf5, params: {file: {dir}/d.h5, x: /g/x, y: /labels}}", 1,
           "{dir}/d.h5: no dataset '/labels'"},
          {"a string dataset, not numeric", write, "{op: load_hdf5, params: {file: {dir}/d.h5, x: /names}}", 1,
           "{dir}/d.h5: dataset '/names' is not numeric (HDF5 string type)"},
          {"unsigned 64-bit integers", write, "{op: load_hdf5, params: {file: {dir}/d.h5, x: /big}}", 1,
           "{dir}/d.h5: dataset '/big' holds unsigned 64-bit integers, which no tensor type holds"},
          {"not an HDF5 file", [](const std::string& d) { write_file(d + "/d.h5", "plain text, not HDF5"); },
           "{op: load_hdf5, params: {file: {dir}/d.h5, x: /x}}", 1, "{dir}/d.h5: cannot open as an HDF5 file"},
          // The key holds d.h5's bytes only: data kept in another file would be served stale from
          // the cache after that file changed.
          {"raw data in an external file",
           [](const std::string& d) {
             const float xs[] = {1, 2, 3};
             const hid_t f = H5Fcreate((d + "/d.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
             const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
             H5Pset_external(dcpl, (d + "/raw.bin").c_str(), 0, sizeof xs);
             const hsize_t n = 3;
             const hid_t space = H5Screate_simple(1, &n, nullptr);
             const hid_t ds = H5Dcreate2(f, "/x", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
             REQUIRE(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, xs) >= 0);
             H5Dclose(ds), H5Sclose(space), H5Pclose(dcpl), H5Fclose(f);
           },
           "{op: load_hdf5, params: {file: {dir}/d.h5, x: /x}}", 1,
           "{dir}/d.h5: dataset '/x' keeps its data in 1 external file ('{dir}/raw.bin'), which the cache key would not "
           "hold; store the data in the file itself"},
          {"an external link to another file",
           [](const std::string& d) {
             const float xs[] = {1, 2, 3};
             write_h5(d + "/other.h5", {{"/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {3}, xs}});
             const hid_t f = H5Fcreate((d + "/d.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
             REQUIRE(H5Lcreate_external((d + "/other.h5").c_str(), "/x", f, "/x", H5P_DEFAULT, H5P_DEFAULT) >= 0);
             H5Fclose(f);
           },
           "{op: load_hdf5, params: {file: {dir}/d.h5, x: /x}}", 1,
           "{dir}/d.h5: dataset '/x' is reached through an external link to {dir}/other.h5:/x, whose contents the cache "
           "key would not hold; copy the data into this file"},
          {"a virtual dataset",
           [](const std::string& d) {
             const float xs[] = {1, 2, 3};
             write_h5(d + "/other.h5", {{"/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {3}, xs}});
             const hid_t f = H5Fcreate((d + "/d.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
             const hsize_t n = 3;
             const hid_t space = H5Screate_simple(1, &n, nullptr), dcpl = H5Pcreate(H5P_DATASET_CREATE);
             REQUIRE(H5Pset_virtual(dcpl, space, (d + "/other.h5").c_str(), "/x", space) >= 0);
             const hid_t ds = H5Dcreate2(f, "/x", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
             REQUIRE(ds >= 0);
             H5Dclose(ds), H5Sclose(space), H5Pclose(dcpl), H5Fclose(f);
           },
           "{op: load_hdf5, params: {file: {dir}/d.h5, x: /x}}", 1,
           "{dir}/d.h5: dataset '/x' is a virtual dataset, whose data lies in its source datasets, which the cache key "
           "would not hold; store the data in the file itself"},
          {"a dataset whose element count wraps to zero",
           [](const std::string& d) {
             write_h5(d + "/d.h5", {{"/x", H5T_STD_U8LE, H5T_NATIVE_UINT8, {1ull << 32, 1ull << 32}, nullptr}});
           },
           "{op: load_hdf5, params: {file: {dir}/d.h5, x: /x}}", 1,
           "{dir}/d.h5: dataset '/x': shape [4294967296, 4294967296] has more than 2^64 elements"},
          {"a dataset never written",
           [](const std::string& d) {
             write_h5(d + "/d.h5", {{"/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1000}, nullptr}});
           },
           "{op: load_hdf5, params: {file: {dir}/d.h5, x: /x}}", 1,
           "{dir}/d.h5: dataset '/x' declares 4000 bytes of data; the file holds 0 (unwritten or truncated)"},
          {"a missing file", [](const std::string&) {}, "{op: load_hdf5, params: {file: {dir}/d.h5, x: /x}}", 1,
           "missing file {dir}/d.h5"},
      },
      kReadsX);
}

TEST_CASE("bad inputs: load_csv") {
  auto csv = [](const std::string& text) { return [text](const std::string& d) { write_file(d + "/d.csv", text); }; };
  const std::string node = "{op: load_csv, params: {file: {dir}/d.csv}}";
  check_all(
      {
          {"a cell that is not a number", csv("1,2\n3,4\n5,abc\n"), node, 1, "{dir}/d.csv:3:2: not a number: 'abc'"},
          {"an empty cell", csv("1,2\n3,\n"), node, 1, "{dir}/d.csv:2:2: not a number: ''"},
          {"a ragged row", csv("a,b\n1,2\n\n3,4,5\n"), node, 1, "{dir}/d.csv:4: 3 columns, but line 1 has 2"},
          {"an unterminated quote", csv("1,\"2\n"), node, 1, "{dir}/d.csv:1:2: unterminated quote"},
          {"a label that is not an integer", csv("1,0\n2,1.5\n"), "{op: load_csv, params: {file: {dir}/d.csv, label: 2}}",
           1, "{dir}/d.csv:2:2: label is not an integer: '1.5'"},
          {"a label column not in the header", csv("a,b\n1,2\n"), "{op: load_csv, params: {file: {dir}/d.csv, label: c}}",
           1, "{dir}/d.csv: no column 'c' in the header (a, b)"},
          {"an empty file", csv(""), node, 1, "{dir}/d.csv: empty file"},
          {"a missing file", [](const std::string&) {}, node, 1, "missing file {dir}/d.csv"},
      },
      kReadsX);
}

TEST_CASE("bad inputs: exec") {
  auto nothing = [](const std::string&) {};
  check_all(
      {
          {"a nonzero exit", nothing,
           "{op: exec, params: {command: [sh, -c, 'echo one >&2; echo two >&2; exit 3'], outputs: {s: scalar}}}", 1,
           "sh exited with status 3; the last lines of its stderr:\n  one\n  two"},
          {"only the last 20 lines of stderr", nothing,
           "{op: exec, params: {command: [sh, -c, 'for i in $(seq 1 25); do echo line $i >&2; done; exit 1'], "
           "outputs: {s: scalar}}}",
           1,
           "sh exited with status 1; the last lines of its stderr:\n  line 6\n  line 7\n  line 8\n  line 9\n  line 10\n"
           "  line 11\n  line 12\n  line 13\n  line 14\n  line 15\n  line 16\n  line 17\n  line 18\n  line 19\n  line 20\n"
           "  line 21\n  line 22\n  line 23\n  line 24\n  line 25"},
          {"death by a signal", nothing, "{op: exec, params: {command: [sh, -c, 'kill -SEGV $$'], outputs: {s: scalar}}}", 1,
           "sh was killed by signal 11 (Segmentation fault) (stderr was empty)"},
          {"a timeout", nothing,
           "{op: exec, params: {command: [sh, -c, 'echo waiting >&2; sleep 30'], outputs: {s: scalar}, timeout: 1s}}", 1,
           "sh timed out after 1s; the last lines of its stderr:\n  waiting"},
          {"a missing declared output", nothing, "{op: exec, params: {command: ['true'], outputs: {s: scalar}}}", 1,
           "true wrote no output 's' to UNTANGLE_OUTPUT (stderr was empty)"},
          {"a program that does not exist", nothing,
           "{op: exec, params: {command: [no-such-program-here], outputs: {s: scalar}}}", 1,
           "cannot run no-such-program-here: No such file or directory"},
          {"an output file that is not HDF5", nothing,
           "{op: exec, params: {command: [sh, -c, 'echo text > \"$UNTANGLE_OUTPUT\"'], outputs: {s: scalar}}}", 1,
           "sh's UNTANGLE_OUTPUT: not an HDF5 file (stderr was empty)"},
          {"a declared file that is missing", nothing,
           "{op: exec, params: {command: [sh, s.sh], files: [s.sh], outputs: {s: scalar}}}", 1, "missing file {dir}/s.sh"},
          {"a timeout that is no duration", nothing,
           "{op: exec, params: {command: ['true'], outputs: {s: scalar}, timeout: soon}}", 2,
           "timeout must be a duration like 30s, 10m or 2h, got 'soon'", "soon"},
          {"an unknown output type", nothing, "{op: exec, params: {command: ['true'], outputs: {s: number}}}", 2,
           "outputs.s must be one of scalar, tensor, got 'number'", "number"},
      },
      kReadsS);
}

TEST_CASE("bad inputs: exec programs that write wrong outputs") {
  if (!has_h5py()) {
    MESSAGE("SKIPPED: /usr/bin/python3 has no h5py");
    return;
  }
  auto nothing = [](const std::string&) {};
  const std::string py =
      "{op: exec, params: {command: [/usr/bin/python3, -c, \"import os, h5py, numpy as np; "
      "f = h5py.File(os.environ['UNTANGLE_OUTPUT'], 'w'); ";
  check_all(
      {
          {"an undeclared output", nothing, py + "f['s'] = np.float64(1); f['extra'] = np.zeros(2)\"], outputs: {s: scalar}}}",
           1, "/usr/bin/python3 wrote undeclared output 'extra' (outputs: s) (stderr was empty)"},
          {"a tensor declared scalar", nothing, py + "f['s'] = np.zeros(3)\"], outputs: {s: scalar}}}", 1,
           "/usr/bin/python3 wrote output 's' with shape [3]; it is declared scalar (one value) (stderr was empty)"},
          {"strings for a tensor", nothing,
           py + "f['s'] = np.array(['a', 'b'], dtype=h5py.string_dtype())\"], outputs: {s: tensor}}}", 1,
           "/usr/bin/python3 wrote output 's' as strings; it must be numeric (stderr was empty)"},
          {"a type no tensor holds", nothing, py + "f['s'] = np.array([1, 2], dtype=np.uint16)\"], outputs: {s: tensor}}}",
           1,
           "/usr/bin/python3's UNTANGLE_OUTPUT: dataset 's' has a type untangle does not hold (int8 to int64, uint8, "
           "float32, float64) (stderr was empty)"},
      },
      kReadsS);
}
