// The report's explorer: the page's data checked against the cache (points, images, the
// confusion matrix), bad inputs refused with a message, and the page driven in Chromium by
// tests/browser/explorer_test.mjs: hover, brushing, legend, confusion cells, export, and the
// frame time while panning 70,000 points.
#include <doctest/doctest.h>

#include <cairo.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "nodes/common/random.h"
#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/html_page.h"
#include "tests/idx_files.h"

using namespace untangle;
using nlohmann::json;

namespace {

const std::string kNodes = R"(
  mnist: {op: load_mnist, params: {dir: DIR}}
  model:
    op: train
    inputs: {x: mnist.train_x, y: mnist.train_y}
    params:
      model: [flatten, {dense: {units: 16, activation: sigmoid, name: fc1}}, {dense: {units: 10, activation: softmax}}]
      optimizer: {sgd: {lr: 0.5}}
      batch_size: 20
      epochs: 4
      seed: 1
  test: {op: evaluate, inputs: {model: model.model, weights: model.weights, x: mnist.test_x, y: mnist.test_y}}
  fc1: {op: activations, inputs: {model: model.model, weights: model.weights, x: mnist.test_x}, params: {layer: fc1}}
  raw_pca: {op: pca, inputs: {x: mnist.test_x}}
  fc1_pca: {op: pca, inputs: {x: fc1.values}}
  raw_tsne: {op: tsne, inputs: {x: mnist.test_x}, params: {perplexity: 5, iterations: 300}}
  train_pca: {op: pca, inputs: {x: mnist.train_x}}
)";

const std::string kReport = R"(
  report:
    op: report
    params: {title: Explore, view_titles: [raw PCA, fc1 PCA, raw t-SNE], model_names: [tiny MLP]}
    inputs:
      views: [raw_pca.points, fc1_pca.points, raw_tsne.points]
      images: mnist.test_x
      labels: mnist.test_y
      predictions: [test.probabilities]
)";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

struct Explore {
  test::TempDir dir;
  std::string graph = dir / "explore.yaml";
  std::string cache = " --cache " + dir / "cache";
  explicit Explore(const std::string& report = kReport, const std::string& more = "") {
    test::write_tiny_mnist(dir.path);
    test::write_file(graph, "name: explore\nnodes:" + replace_all(kNodes, "DIR", dir.path) + report + more);
  }
  test::CommandResult untangle(const std::string& command, const std::string& rest = "") {
    return test::run_command(std::string(UNTANGLE_BINARY) + " " + command + " " + graph + rest + cache + " --results " + dir / "results");
  }
  std::vector<double> get(const std::string& port) {
    std::vector<double> out;
    std::string text = test::run_command(std::string(UNTANGLE_BINARY) + " get " + graph + " " + port + cache).out;
    std::replace(text.begin(), text.end(), ',', '\n');
    std::istringstream in(text);
    for (double v; in >> v;) out.push_back(v);
    return out;
  }
};

std::vector<unsigned char> unbase64(const std::string& s) {
  std::vector<unsigned char> out;
  unsigned v = 0;
  int bits = 0;
  for (char c : s) {
    const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* p = c ? std::strchr(abc, c) : nullptr;
    if (!p) continue;  // '=' padding
    v = v << 6 | static_cast<unsigned>(p - abc);
    if ((bits += 6) >= 8) out.push_back(static_cast<unsigned char>(v >> (bits -= 8)));
  }
  return out;
}

json page_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"explorer-data\">";
  const auto from = html.find(open);
  REQUIRE(from != std::string::npos);
  const auto to = html.find("</script>", from);
  return json::parse(html.substr(from + open.size(), to - from - open.size()));
}

// Grey level of pixel (x, y) of a PNG given as bytes.
struct Png {
  cairo_surface_t* s;
  explicit Png(const std::vector<unsigned char>& bytes) {
    struct Reader {
      const std::vector<unsigned char>* b;
      std::size_t at = 0;
    } r{&bytes};
    s = cairo_image_surface_create_from_png_stream(
        [](void* closure, unsigned char* data, unsigned int length) {
          auto* rd = static_cast<Reader*>(closure);
          if (rd->at + length > rd->b->size()) return CAIRO_STATUS_READ_ERROR;
          std::memcpy(data, rd->b->data() + rd->at, length);
          rd->at += length;
          return CAIRO_STATUS_SUCCESS;
        },
        &r);
    REQUIRE(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
  }
  ~Png() { cairo_surface_destroy(s); }
  int grey(int x, int y) const {  // cairo reads a grey PNG as RGB24, the grey in every channel
    const unsigned char* px = cairo_image_surface_get_data(s) + y * cairo_image_surface_get_stride(s);
    return cairo_image_surface_get_format(s) == CAIRO_FORMAT_A8 ? px[x] : px[4 * x] ;
  }
};

}  // namespace

TEST_CASE("explorer: the page holds every view's points, each image and the model's confusion, from the cache") {
  Explore t;
  auto r = t.untangle("run");
  REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
  const std::string html = test::read_file(t.dir / "results/report.html");
  const json data = page_data(html);
  CHECK(data["n"] == 40);
  REQUIRE(data["views"].size() == 3);
  CHECK(data["views"][1]["title"] == "fc1 PCA");
  CHECK(data["views"][1]["source"] == "fc1_pca.points");

  // Points: 16-bit over the bounding box, within a 65,535th of the span of what the cache holds.
  const std::vector<std::string> ports = {"raw_pca.points", "fc1_pca.points", "raw_tsne.points"};
  for (std::size_t v = 0; v < ports.size(); ++v) {
    const auto cached = t.get(ports[v]);
    const auto q = unbase64(data["views"][v]["points"].get<std::string>());
    REQUIRE(cached.size() == 80);
    REQUIRE(q.size() == 160);
    for (std::size_t i = 0; i < 80; ++i) {
      const auto& range = data["views"][v][i % 2 ? "y" : "x"];
      const double lo = range[0], hi = range[1];
      const double decoded = lo + (hi - lo) * (q[2 * i] | q[2 * i + 1] << 8) / 65535.0;
      CHECK(std::abs(decoded - cached[i]) <= (hi - lo) / 65535.0);
    }
  }

  // Images: one sprite sheet, 64 digits a row, each the test file's bytes.
  const std::string idx = test::read_file(t.dir / "t10k-images-idx3-ubyte");
  const auto& images = data["images"];
  CHECK(images["width"] == 28);
  REQUIRE(images["sheets"].size() == 1);
  const Png sheet(unbase64(images["sheets"][0].get<std::string>()));
  CHECK(cairo_image_surface_get_width(sheet.s) == 40 * 28);
  CHECK(cairo_image_surface_get_height(sheet.s) == 28);
  std::size_t differ = 0;
  for (int i = 0; i < 40; ++i)
    for (int p = 0; p < 784; ++p) differ += sheet.grey(i * 28 + p % 28, p / 28) != static_cast<unsigned char>(idx[16 + i * 784 + p]);
  CHECK(differ == 0);

  // Labels and predictions: the model's argmax, and a confusion matrix equal to evaluate's.
  const auto labels = unbase64(data["labels"].get<std::string>());
  const auto predicted = unbase64(data["models"][0]["predicted"].get<std::string>());
  const auto probs = t.get("test.probabilities");
  REQUIRE(probs.size() == 400);
  for (std::size_t i = 0; i < 40; ++i) {
    CHECK(labels[i] == i % 10);
    CHECK(predicted[i] == std::max_element(&probs[10 * i], &probs[10 * i + 10]) - &probs[10 * i]);
  }
  const auto confusion = t.get("test.confusion");
  const json summary = json::parse(test::read_file(t.dir / "results/summary.json"));
  std::vector<double> shown;
  for (const auto& row : summary["confusion"]["tiny MLP"]["matrix"])
    for (const auto& v : row) shown.push_back(v);
  CHECK(shown == confusion);
  CHECK(data["models"][0]["confusion"] == summary["confusion"]["tiny MLP"]["matrix"]);
  CHECK(summary["views"][2]["source"] == "raw_tsne.points");

  // Self-contained: the script and style are inline, nothing comes from elsewhere.
  CHECK_CONTAINS(html, "window.untangleExplorer");
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("src=\"http") == std::string::npos);
}

TEST_CASE("explorer: inputs that do not describe one point set are refused with the reason") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"views: [raw_pca.points]", "views need labels: the class of each point"},
      {"labels: mnist.test_y", "labels belongs to the explorer, which needs views"},
      {"views: [raw_pca.points, train_pca.points], labels: mnist.test_y",
       "views take 2-D points [40, 2], one per image; train_pca.points is [100, 2]"},
      {"views: [raw_pca.points], labels: mnist.test_y, images: mnist.train_x", "images must be grey images [40, height, width]"},
      {"views: [raw_pca.points], labels: mnist.test_y, predictions: [fc1.values]",
       "predictions take class probabilities, rows that sum to 1 (evaluate.probabilities); row 0 of fc1.values sums to"},
      {"views: [raw_pca.points, raw_tsne.points], labels: mnist.test_y, predictions: [train_pca.points]",
       "predictions take class probabilities [40, classes], one row per point (evaluate.probabilities); train_pca.points is [100, 2]"},
      {"views: [raw_pca.points, fc1_pca.points], labels: mnist.test_y", "view_titles has 1 titles for 2 views"},
  };
  for (const auto& entry : cases) {
    const auto& inputs = entry.first;
    const auto& message = entry.second;
    CAPTURE(inputs);
    const std::string titles = inputs.find("fc1_pca") != std::string::npos ? ", view_titles: [one]" : "";
    Explore t("\n  report:\n    op: report\n    params: {title: T" + titles + "}\n    inputs: {" + inputs + "}\n");
    auto r = t.untangle("run");
    CHECK(r.code == 1);
    CHECK_CONTAINS(r.out + r.err, message);
  }
}

namespace {

// The view titles, the model's name and, through a node swept over them, the views' sources:
// each holds test::kHostile. The swept node hands raw_pca's points on unchanged: its command
// takes the swept value as an argument that it ignores.
struct HostileExplorer {
  std::vector<std::string> titles, swept = {"<!--<script>", "</script> \"q\" 'q'\nx"};
  std::string model = test::kHostile + " (model)";
  std::unique_ptr<Explore> t;
  HostileExplorer() {
    for (int v = 0; v < 3; ++v) titles.push_back(test::kHostile + " (view " + std::to_string(v) + ")");
    std::string list;
    for (const auto& title : titles) list += (list.empty() ? "" : ", ") + test::yaml_quoted(title);
    t = std::make_unique<Explore>(R"(
  relabel:
    op: exec
    inputs: {x: raw_pca.points}
    params:
      command: [/usr/bin/python3, -c, "import os, h5py; h5py.File(os.environ['UNTANGLE_OUTPUT'], 'w')['points'] = h5py.File(os.environ['UNTANGLE_INPUT'])['x'][()]", "${label}"]
      outputs: {points: tensor}
  plot: {op: plot_projection, inputs: {points: raw_pca.points, labels: mnist.test_y}, params: {width: 100}}
  report:
    op: report
    params: {title: T, view_titles: [)" + list + "], model_names: [" + test::yaml_quoted(model) + R"(]}
    inputs:
      views: [raw_pca.points, relabel.points]
      images: mnist.test_x
      labels: mnist.test_y
      predictions: [test.probabilities]
      figures: [plot.png]
sweep: {label: [)" + test::yaml_quoted(swept[0]) + ", " + test::yaml_quoted(swept[1]) + "]}\n");
  }
};

}  // namespace

TEST_CASE("explorer: titles, names and sweep labels of any text leave the page whole, and its data reads back as given") {
  if (test::run_command("/usr/bin/python3 -c 'import h5py'").code != 0) {
    std::cout << "SKIPPED: /usr/bin/python3 has no h5py\n";
    return;
  }
  HostileExplorer h;
  auto r = h.t->untangle("run");
  REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
  // In the browser, where it can run, the explorer starts and makes a canvas per view.
  if (std::system("command -v chromium >/dev/null 2>&1") == 0) {
    auto dom = test::run_command("chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --user-data-dir=" +
                                 h.t->dir / "profile" + " --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom file://" +
                                 h.t->dir / "results/report.html");
    REQUIRE_MESSAGE(dom.code == 0, dom.err);
    CHECK_CONTAINS(dom.out, "data-explorer=\"ready\"");
    std::size_t canvases = 0;
    for (std::size_t p = 0; (p = dom.out.find("<canvas class=\"ex-map", p)) != std::string::npos; ++p) ++canvases;
    CHECK(canvases == 3);
    CHECK_MESSAGE(dom.err.find(":CONSOLE") == std::string::npos, dom.err);
  }
  const json page = test::parse_page(h.t->dir / "results/report.html");
  const auto& all = page["elements"];
  auto at = std::find_if(all.begin(), all.end(), [](const json& e) { return e["attrs"].value("id", "") == "explorer-data"; });
  REQUIRE(at != all.end());
  // After the data, the explorer's style and script whole, then the figures, then the page's end.
  REQUIRE(all.end() - at >= 4);
  CHECK(at[1]["tag"] == "style");
  CHECK(at[1]["text"] == "\n" + test::read_file(std::string(UNTANGLE_SOURCE_DIR) + "/nodes/report/explorer.css"));
  CHECK(at[2]["tag"] == "script");
  CHECK(at[2]["text"] == "\n" + test::read_file(std::string(UNTANGLE_SOURCE_DIR) + "/nodes/report/explorer.js"));
  CHECK(at[3]["tag"] == "h2");
  CHECK(at[3]["text"] == "Figures");
  CHECK(test::elements(page, "img").size() == 1);
  CHECK(page["open"].empty());
  CHECK(page["ends"].back() == "html");
  // None of what could start a tag, an entity or a line of old JavaScript is left in the data as
  // it stands in the page; it reads back as the graph gave it.
  const std::string raw = (*at)["text"];
  for (const char* c : {"<", ">", "&", "\xe2\x80\xa8", "\xe2\x80\xa9"}) CHECK(raw.find(c) == std::string::npos);
  CHECK_CONTAINS(raw, "\\u003c!--\\u003cscript\\u003e");
  CHECK_CONTAINS(raw, "\\u2028");
  const json data = json::parse(raw);
  REQUIRE(data["views"].size() == 3);
  const std::vector<std::string> sources = {"raw_pca.points", "relabel[label=" + h.swept[0] + "].points",
                                            "relabel[label=" + h.swept[1] + "].points"};
  for (std::size_t v = 0; v < 3; ++v) {
    CHECK(data["views"][v]["title"] == h.titles[v]);
    CHECK(data["views"][v]["source"] == sources[v]);
  }
  CHECK(data["models"][0]["name"] == h.model);
}

namespace {

// 70,000 points in ten clusters, with images that are a class's band of rows and the index in
// binary along the bottom, so that every image differs and they compress as MNIST's do.
void write_big_set(const std::string& dir) {
  constexpr std::uint32_t n = 70000;
  Rng rng(5);
  test::Bytes px(static_cast<std::size_t>(n) * 784, 0), ys(n);
  std::string csv = "x,y,label\n";
  for (std::uint32_t i = 0; i < n; ++i) {
    const unsigned c = i % 10;
    ys[i] = static_cast<unsigned char>(c);
    for (unsigned row = 4 + 2 * c; row < 7 + 2 * c; ++row)
      for (int col = 6; col < 22; ++col) px[i * 784 + row * 28 + col] = 200;
    for (int bit = 0; bit < 17; ++bit) px[i * 784 + 26 * 28 + 5 + bit] = i >> bit & 1 ? 255 : 0;
    const double a = 2 * M_PI * c / 10;
    csv += std::to_string(10 * std::cos(a) + 1.8 * rng.normal()) + "," + std::to_string(10 * std::sin(a) + 1.8 * rng.normal()) + "," +
           std::to_string(c) + "\n";
  }
  test::write_bytes(dir + "/big-images-idx3-ubyte", test::idx(0x08, {n, 28, 28}, px));
  test::write_bytes(dir + "/big-labels-idx1-ubyte", test::idx(0x08, {n}, ys));
  test::write_file(dir + "/big.csv", csv);
}

}  // namespace

TEST_CASE("explorer: in Chromium, hover shows the digit, brushing links the views, the legend hides, 70,000 points pan smoothly") {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0 || std::system("command -v node >/dev/null 2>&1") != 0) {
    std::cout << "SKIPPED: chromium or node is not installed (tools/setup installs them)\n";
    return;
  }
  const std::string browser_dir = std::string(UNTANGLE_SOURCE_DIR) + "/tests/browser";
  if (!std::filesystem::exists(browser_dir + "/node_modules/puppeteer-core")) {
    auto npm = test::run_command("cd " + browser_dir + " && npm ci --no-audit --no-fund");
    REQUIRE_MESSAGE(npm.code == 0, (std::string("puppeteer-core is missing and npm ci failed (tools/setup installs it): ") + npm.err));
  }
  // Names that would end the page's data early, had it not been escaped: the explorer must
  // still start, draw and take the pointer.
  const std::vector<std::string> views = {test::kHostile + " (raw PCA)", "fc1 PCA", "</script><!--<script>"};
  const std::string model = test::kHostile + " (tiny MLP)";
  std::string report = replace_all(kReport, "[raw PCA, fc1 PCA, raw t-SNE]",
                                   "[" + test::yaml_quoted(views[0]) + ", " + test::yaml_quoted(views[1]) + ", " + test::yaml_quoted(views[2]) + "]");
  report = replace_all(report, "[tiny MLP]", "[" + test::yaml_quoted(model) + "]");
  Explore t(report, R"(
  big_points: {op: load_csv, params: {file: DIR/big.csv, label: label}}
  big_images: {op: load_idx, params: {x: DIR/big-images-idx3-ubyte, y: DIR/big-labels-idx1-ubyte}}
  big:
    op: report
    params: {title: "70,000 points", view_titles: [ten clusters]}
    inputs: {views: [big_points.x], images: big_images.x, labels: big_images.y}
)");
  write_big_set(t.dir.path);
  test::write_file(t.graph, replace_all(test::read_file(t.graph), "DIR", t.dir.path));
  auto r = t.untangle("run");
  REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
  const auto big = std::filesystem::file_size(t.dir / "results/big.html");
  std::cout << "70,000-point page: " << big / 1e6 << " MB\n";
  CHECK(big < 25e6);

  const std::string shots = std::string(UNTANGLE_BUILD_DIR) + "/explorer-shots";
  std::filesystem::create_directories(shots);
  test::write_file(t.dir / "names.json", json{{"views", views}, {"models", json::array({model})}}.dump());
  auto b = test::run_command("node " + browser_dir + "/explorer_test.mjs --report " + t.dir / "results/report.html" + " --titles " +
                             t.dir / "names.json" + " --images " +
                             t.dir / "t10k-images-idx3-ubyte" + " --labels " + t.dir / "t10k-labels-idx1-ubyte" + " --pan " +
                             t.dir / "results/big.html" + " --shots " + shots);
  std::cout << b.out << b.err;
  CHECK_MESSAGE(b.code == 0, (b.out + b.err));
  if (b.out.find("SKIPPED") == std::string::npos) {
    CHECK_CONTAINS(b.out, "frame time while panning 70000 points");
    CHECK(b.out.find("FAILED") == std::string::npos);
  }
}
