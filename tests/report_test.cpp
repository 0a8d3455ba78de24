// The report end to end: a small graph (train, evaluate, PCA, a figure, a table) run by the real
// binary; summary.json and report.html checked against the values `untangle get` reads from the
// cache; then the page loaded in headless Chromium where it is installed.
#include <doctest/doctest.h>

#include <cairo.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "nodes/common/random.h"
#include "nodes/report/ops.h"
#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/html_page.h"
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

namespace {

// The tiny graph with every text the page shows made of test::kHostile, marked by what it is,
// and a figure per value of a swept var whose values are hostile too.
struct Hostile {
  test::TempDir dir;
  std::string graph = dir / "hostile.yaml";
  std::string cache = dir / "cache";
  std::vector<std::string> swept = {"<!--<script>", "</script> \"q\" 'q'\nx"};
  static std::string text(const std::string& what) { return test::kHostile + " (" + what + ")"; }
  static std::string q(const std::string& what) { return test::yaml_quoted(text(what)); }
  Hostile() {
    test::write_tiny_mnist(dir.path);
    test::write_file(graph, R"(name: hostile
sweep: {label: [)" + test::yaml_quoted(swept[0]) + ", " + test::yaml_quoted(swept[1]) + R"(]}
nodes:
  mnist: {op: load_mnist, params: {dir: )" + dir.path + R"(}}
  model:
    op: train
    inputs: {x: mnist.train_x, y: mnist.train_y}
    params: {model: [flatten, {dense: {units: 10, activation: softmax}}], optimizer: {sgd: {lr: 0.5}}, batch_size: 20, epochs: 2, seed: 1}
  test: {op: evaluate, inputs: {model: model.model, weights: model.weights, x: mnist.test_x, y: mnist.test_y}}
  summary: {op: model_summary, inputs: {model: model.model}}
  pca: {op: pca, inputs: {x: mnist.test_x}}
  plot: {op: plot_projection, inputs: {points: pca.points, labels: mnist.test_y}, params: {width: 100, title: "${label}"}}
  numbers:
    op: table
    params: {title: )" + q("table title") + ", rows: [" + q("row") + "], columns: [" + q("column") + "], notes: {" +
                                q("note column") + ": [" + q("note") + R"(]}}
    inputs: {cells: [test.loss]}
  report:
    op: report
    params: {title: )" + q("title") + ", intro: " + q("intro") + R"(}
    inputs: {tables: [numbers.json], models: [summary.summary], curves: [model.history], figures: [plot.png]}
)");
  }
  test::CommandResult untangle(const std::string& command) {
    return test::run_command(std::string(UNTANGLE_BINARY) + " " + command + " " + graph + " --cache " + cache + " --results " +
                             dir / "results");
  }
};

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("report: titles, names, notes and sweep labels of any text are shown as given, and the page stays whole") {
  Hostile t;
  auto r = t.untangle("run");
  REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
  const nlohmann::json page = test::parse_page(t.dir / "results/report.html");
  CHECK(page["open"].empty());
  REQUIRE(page["ends"].size() >= 2);
  CHECK(page["ends"][page["ends"].size() - 2] == "body");
  CHECK(page["ends"].back() == "html");

  CHECK(test::texts(page, "title").at(0) == Hostile::text("title"));  // the page's; the charts' points have theirs
  CHECK(test::texts(page, "h1") == std::vector<std::string>{Hostile::text("title")});
  CHECK(contains(test::texts(page, "p"), Hostile::text("intro")));
  CHECK(contains(test::texts(page, "h3"), Hostile::text("table title")));
  const auto headers = test::texts(page, "th");
  for (const char* what : {"row", "column", "note column"}) CHECK(contains(headers, Hostile::text(what)));
  CHECK(test::texts(page, "td", "note") == std::vector<std::string>{Hostile::text("note")});
  CHECK(contains(test::texts(page, "li"), Hostile::text("row") + " · " + Hostile::text("column") + ": "));

  // A figure per swept value, named by its instance, in the image's alt and in the caption.
  std::vector<std::string> alts, captions;
  for (const auto& img : test::elements(page, "img")) alts.push_back(img["attrs"]["alt"]);
  for (const auto& e : page["elements"])
    if (e["tag"] == "code" && e["text"].get<std::string>().rfind("plot[", 0) == 0) captions.push_back(e["text"]);
  const std::vector<std::string> figures = {"plot[label=" + t.swept[0] + "].png", "plot[label=" + t.swept[1] + "].png"};
  CHECK(alts == figures);
  CHECK(captions == figures);
  // The page names the same values as summary.json, which no HTML parser reads.
  const nlohmann::json summary = nlohmann::json::parse(test::read_file(t.dir / "results/summary.json"));
  CHECK(summary["title"] == Hostile::text("title"));
  CHECK(summary["figures"] == nlohmann::json(figures));
}

TEST_CASE("report: a title, name or note that is not UTF-8 is an error at its place in the graph, and nothing runs") {
  // Each case breaks one text of the hostile graph with a byte that starts no character, after
  // `marker`; the error is on the line of `where`.
  struct Case {
    std::string marker, where, message;
  };
  const std::vector<Case> cases = {
      {"(title)", "(title)", "title must be UTF-8 text"},
      {"(intro)", "(intro)", "intro must be UTF-8 text"},
      {"(table title)", "(table title)", "title must be UTF-8 text"},
      {"(row)", "(row)", "rows[0] must be UTF-8 text"},
      {"(column)", "(column)", "columns[0] must be UTF-8 text"},
      {"(note column)", "(note column)", "notes key must be UTF-8 text"},
      {"(note)", "(note)", "[0] must be UTF-8 text"},
      // The second swept value, refused where the plot's title takes it, for that instance.
      {"x\"]}", "${label}", "title must be UTF-8 text; byte 20 of it is not (in plot[label="},
  };
  for (const auto& c : cases) {
    CAPTURE(c.marker);
    Hostile t;
    std::string yaml = test::read_file(t.graph);
    const auto at = yaml.find(c.marker);
    const auto where = yaml.find(c.where);
    REQUIRE(at != std::string::npos);
    REQUIRE(where != std::string::npos);
    const std::size_t line = std::count(yaml.begin(), yaml.begin() + where, '\n') + 1;
    yaml.insert(at + 1, "\xff");
    test::write_file(t.graph, yaml);
    const std::string& message = c.message;
    auto r = t.untangle("run");
    CHECK(r.code == 2);
    CHECK_CONTAINS(r.out + r.err, t.graph + ":" + std::to_string(line) + ":");
    CHECK_CONTAINS(r.out + r.err, ": error: ");
    CHECK_CONTAINS(r.out + r.err, message);
    CHECK((r.out + r.err).find("json.exception") == std::string::npos);
    CHECK(!std::filesystem::exists(t.cache + "/objects"));
  }
}

TEST_CASE("report: text from data that is not UTF-8 is shown with U+FFFD, and the page and the run's output say so") {
  // As an op of a plugin might give them: a table cell, a model summary's line, a group member's name.
  Tensor cell = Tensor::text({"bad \xff cell"});
  cell.shape = {};
  OpContext table;
  table.params = YAML::Load("{rows: [r], columns: [c], digits: 4, title: '', notes: {}, by: rows}");
  table.inputs["cells"] = {cell};
  table.labels["cells"] = {"src.text"};
  std::vector<std::string> said;
  table.log = [&](const std::string& text) { said.push_back(text); };
  const Outputs tabled = table_op().run(table);
  CHECK(said == std::vector<std::string>{"warning: shown with \xef\xbf\xbd where the text is not UTF-8: cell src.text"});
  const nlohmann::json parsed = nlohmann::json::parse(tabled.at("json").strings.at(0));
  CHECK(parsed["rows"][0]["cells"][0]["text"] == "bad \xef\xbf\xbd cell");
  CHECK(tabled.at("text").strings.back().find("bad \xef\xbf\xbd cell") != std::string::npos);

  OpContext report;
  report.params = YAML::Load("{title: T, intro: '', view_titles: [], model_names: []}");
  report.inputs["tables"] = {tabled.at("json")};
  report.labels["tables"] = {"numbers.json"};
  report.inputs["models"] = {Tensor::text({"Model", "layer \xc0\xaf one"})};
  report.labels["models"] = {"summary.summary"};
  report.inputs["curves"] = {Tensor::scalar(1.0)};
  report.inputs["curves"][0].shape = {1};
  report.labels["curves"] = {"model.history/lo\xe2\x82ss"};
  said.clear();
  report.log = [&](const std::string& text) { said.push_back(text); };
  const Outputs out = report_op().run(report);
  // A byte for a byte: e2 82 is two.
  const std::string bad_name = "model.history/lo\xef\xbf\xbd\xef\xbf\xbdss";
  const std::string note = "shown with \xef\xbf\xbd where the text is not UTF-8: curves " + bad_name + ", models summary.summary";
  CHECK(said == std::vector<std::string>{"warning: " + note});
  test::TempDir dir;
  test::write_file(dir / "report.html", std::string(out.at("html").bytes.begin(), out.at("html").bytes.end()));
  const nlohmann::json page = test::parse_page(dir / "report.html");  // which reads it as UTF-8
  CHECK(test::texts(page, "p", "warning") == std::vector<std::string>{note});
  CHECK(contains(test::texts(page, "pre"), "Model\nlayer \xef\xbf\xbd\xef\xbf\xbd one\n"));
  CHECK(contains(test::texts(page, "td", "value"), "bad \xef\xbf\xbd cell"));
  const nlohmann::json summary = nlohmann::json::parse(std::string(out.at("summary").bytes.begin(), out.at("summary").bytes.end()));
  CHECK(summary["warnings"] == nlohmann::json::array({note}));
  CHECK(summary["curves"]["model.history"].contains(bad_name.substr(bad_name.find('/') + 1)));
}
