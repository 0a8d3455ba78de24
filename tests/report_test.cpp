// The report end to end: a small graph (train, evaluate, PCA, a figure, a table) run by the real
// binary; summary.json and report.html checked against the values `untangle get` reads from the
// cache; then the page loaded in headless Chromium where it is installed.
#include <doctest/doctest.h>

#include <cairo.h>

#include <cstdlib>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "nodes/common/random.h"
#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/idx_files.h"

using namespace untangle;

namespace {

struct Tiny {
  test::TempDir dir;
  std::string graph = dir / "tiny.yaml";
  std::string args = graph + " --cache " + dir / "cache" + " --results " + dir / "results";
  Tiny() {
    test::write_tiny_mnist(dir.path);
    test::write_file(graph, R"(name: tiny
nodes:
  mnist: {op: load_mnist, params: {dir: )" + dir.path + R"(}}
  model:
    op: train
    inputs: {x: mnist.train_x, y: mnist.train_y}
    params: {model: [flatten, {dense: {units: 10, activation: softmax}}], optimizer: {sgd: {lr: 0.5}}, batch_size: 20, epochs: 4, seed: 1}
  test: {op: evaluate, inputs: {model: model.model, weights: model.weights, x: mnist.test_x, y: mnist.test_y}}
  summary: {op: model_summary, inputs: {model: model.model}}
  pca: {op: pca, inputs: {x: mnist.test_x}}
  nh: {op: neighborhood_hit, inputs: {points: pca.points, labels: mnist.test_y}, params: {k: 2}}
  plot: {op: plot_projection, inputs: {points: pca.points, labels: mnist.test_y, nh: nh.overall}, params: {width: 200}}
  numbers:
    op: table
    params: {title: Numbers, rows: [tiny model], columns: [loss, accuracy, NH], notes: {published: ["about 0.9"]}}
    inputs: {cells: [test.loss, test.accuracy, nh.overall]}
  report:
    op: report
    params: {title: Tiny report}
    inputs: {tables: [numbers.json], models: [summary.summary], curves: [model.history], figures: [plot.png]}
)");
  }
  test::CommandResult untangle(const std::string& command) {
    return test::run_command(std::string(UNTANGLE_BINARY) + " " + command + " " + args);
  }
};

}  // namespace

TEST_CASE("report: summary.json and report.html hold the cached numbers, each with its source") {
  Tiny t;
  auto r = t.untangle("run");
  REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
  CHECK_CONTAINS(r.out, "  file    " + t.dir / "results/report.html");
  CHECK_CONTAINS(r.out, "  file    " + t.dir / "results/summary.json");
  const auto json = nlohmann::json::parse(test::read_file(t.dir / "results/summary.json"));
  const auto& cells = json["tables"][0]["rows"][0]["cells"];
  const std::vector<std::string> sources = {"test.loss", "test.accuracy", "nh.overall"};
  const std::string html = test::read_file(t.dir / "results/report.html");
  for (std::size_t c = 0; c < sources.size(); ++c) {
    CHECK(cells[c]["source"] == sources[c]);
    const double cached = std::stod(test::run_command(std::string(UNTANGLE_BINARY) + " get " + t.args.substr(0, t.args.find(" --results")) +
                                                      " " + sources[c]).out);
    CHECK(cells[c]["value"].get<double>() == cached);
    CHECK_CONTAINS(html, "data-source=\"" + sources[c] + "\">" + cells[c]["text"].get<std::string>() + "</td>");
  }
  CHECK(cells[3]["text"] == "about 0.9");
  CHECK(json["curves"]["model.history"]["loss"].size() == 4);
  CHECK(json["figures"] == nlohmann::json::array({"plot.png"}));
  CHECK_CONTAINS(html, "<img alt=\"plot.png\" src=\"data:image/png;base64,iVBORw0KGgo");  // the PNG signature
  CHECK_CONTAINS(html, "Total params: 7,850");
  // Self-contained: nothing is fetched from anywhere.
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("src=\"http") == std::string::npos);
}

TEST_CASE("report: the page renders in headless Chromium with every figure and no console error") {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    std::cout << "SKIPPED: chromium is not installed (tools/setup installs it)\n";
    return;
  }
  Tiny t;
  REQUIRE(t.untangle("run").code == 0);
  const std::string page = "file://" + t.dir / "results/report.html";
  const std::string chromium = "chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions "
                               "--user-data-dir=" + t.dir / "profile" + " --enable-logging=stderr --v=0 --virtual-time-budget=5000 ";
  auto dom = test::run_command(chromium + "--dump-dom " + page);
  REQUIRE_MESSAGE(dom.code == 0, dom.err);
  CHECK_CONTAINS(dom.out, "data-figures=\"1/1\"");  // set by the page once its images loaded
  const auto json = nlohmann::json::parse(test::read_file(t.dir / "results/summary.json"));
  for (const auto& cell : json["tables"][0]["rows"][0]["cells"])
    CHECK_CONTAINS(dom.out, ">" + cell["text"].get<std::string>() + "</td>");
  CHECK_MESSAGE(dom.err.find(":CONSOLE") == std::string::npos, dom.err);
  // The check above can fail: a page with a script error is caught by the same test.
  test::write_file(t.dir / "broken.html", "<html><body><script>undefinedFunction();</script></body></html>");
  CHECK_CONTAINS(test::run_command(chromium + "--dump-dom file://" + t.dir / "broken.html").err, ":CONSOLE");

  const std::string shot = t.dir / "shot.png";
  auto s = test::run_command(chromium + "--window-size=1000,1400 --screenshot=" + shot + " " + page);
  REQUIRE_MESSAGE(s.code == 0, s.err);
  cairo_surface_t* img = cairo_image_surface_create_from_png(shot.c_str());
  REQUIRE(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS);
  const int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
  const int stride = cairo_image_surface_get_stride(img);
  const unsigned char* px = cairo_image_surface_get_data(img);
  std::set<std::uint32_t> colours;
  std::size_t ink = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const auto v = *reinterpret_cast<const std::uint32_t*>(px + y * stride + 4 * x) & 0xffffff;
      colours.insert(v);
      ink += v != 0xffffff;
    }
  cairo_surface_destroy(img);
  CHECK(w == 1000);
  CHECK(colours.size() > 50);             // text, tables and a figure, not one flat colour
  CHECK(ink > static_cast<std::size_t>(w) * h / 100);
}
