// The projection figure, read back: sizes, where points land and in which colour, determinism,
// and the errors for bad input.
#include <doctest/doctest.h>

#include <cairo.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>

#include "nodes/metrics/ops.h"
#include "nodes/report/ops.h"
#include "nodes/report/plot_projection.h"
#include "tests/checks.h"
#include "tests/labelled_points.h"

using namespace untangle;

namespace {

// Classes 0 and 1 are triangles (class 0 with a point inside); class 5, the third class, is a
// tiny triangle far up and right, so its corner (20, 20) is a lone dot.
const std::vector<double> kXY = {0, 0, 2, 0, 0, 2, 1, 0.5, 10, 0, 12, 0, 11, 2, 20, 20, 20.2, 20, 20, 20.2};
const std::vector<int> kLabels = {0, 0, 0, 0, 1, 1, 1, 5, 5, 5};

// Points and labels, plus the given metric ops' real outputs ("hulls", "ellipses") when asked.
OpContext figure_inputs(bool hulls, bool ellipses, const std::string& title = "") {
  OpContext ctx = test::labelled_points(kXY, 2, kLabels);
  ctx.params = YAML::Load("{width: 300, point_size: 3}");
  ctx.params["title"] = title;
  auto add_group = [&](const Outputs& out, const std::string& port, const std::string& overlap) {
    for (const auto& [name, t] : out)
      if (name.rfind(port + "/", 0) == 0) {
        ctx.inputs[port].push_back(t);
        ctx.labels[port].push_back(name.substr(port.size() + 1));
      }
    ctx.inputs[overlap] = {out.at("mean_overlap")};
  };
  OpContext metric = test::labelled_points(kXY, 2, kLabels);
  metric.params = YAML::Load("{scale: 1.4142135623730951}");
  if (hulls) add_group(convex_hulls_op().run(metric), "hulls", "hull_overlap");
  if (ellipses) add_group(gaussian_ellipses_op().run(metric), "ellipses", "ellipse_overlap");
  ctx.inputs["nh"] = {Tensor::scalar(0.8)};
  return ctx;
}

std::string bytes_of(const Tensor& t) {
  REQUIRE(t.dtype == DType::u8);
  REQUIRE(t.shape.size() == 1);
  return std::string(reinterpret_cast<const char*>(t.data<std::uint8_t>()), t.size());
}

struct Image {
  int width = 0, height = 0;
  std::vector<std::uint32_t> rgb;  // 0xRRGGBB, row-major
  std::uint32_t at(plot::XY p) const {
    return rgb[static_cast<std::size_t>(std::floor(p.y)) * width + static_cast<std::size_t>(std::floor(p.x))];
  }
};

// Decodes a PNG with cairo's own reader.
Image decode(const std::string& png) {
  struct Reader {
    const std::string& bytes;
    std::size_t pos = 0;
  } reader{png};
  auto read = [](void* closure, unsigned char* data, unsigned int n) {
    auto& r = *static_cast<Reader*>(closure);
    if (r.pos + n > r.bytes.size()) return CAIRO_STATUS_READ_ERROR;
    std::memcpy(data, r.bytes.data() + r.pos, n);
    r.pos += n;
    return CAIRO_STATUS_SUCCESS;
  };
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read, &reader);
  Image img;
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    img.width = cairo_image_surface_get_width(s);
    img.height = cairo_image_surface_get_height(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x) {
        std::uint32_t v;
        std::memcpy(&v, data + y * stride + 4 * x, 4);
        img.rgb.push_back(v & 0xffffff);
      }
  }
  cairo_surface_destroy(s);
  return img;
}

// c at opacity a over background 0xRRGGBB, channel by channel, within ±2 for rounding.
bool blend_near(std::uint32_t got, std::uint32_t c, double a, std::uint32_t background) {
  for (int shift : {0, 8, 16}) {
    const double want = a * (c >> shift & 255) + (1 - a) * (background >> shift & 255);
    if (std::abs(static_cast<double>(got >> shift & 255) - want) > 2) return false;
  }
  return true;
}

Outputs render(OpContext& ctx) { return plot_projection_op().run(ctx); }

}  // namespace

TEST_CASE("plot_projection: three panels, a legend column, and points where the view puts them") {
  OpContext ctx = figure_inputs(true, true);
  Outputs out = render(ctx);
  const std::string png = bytes_of(out.at("png"));
  REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  const Image img = decode(png);
  CHECK(img.width == 3 * 300 + plot::kLegendWidth);
  CHECK(img.height == 300);

  const plot::Scene scene = plot::scene_of(ctx);
  REQUIRE(scene.panels.size() == 3);
  CHECK(scene.classes == std::vector<std::string>{"0", "1", "5"});
  CHECK(scene.panels[0].title == "points — neighbourhood hit 0.800");
  CHECK(scene.panels[1].title.rfind("convex hulls — mean overlap 0.000", 0) == 0);
  CHECK(scene.panels[2].title.rfind("Gaussian ellipses — mean overlap", 0) == 0);
  const plot::View view = plot::view_of(scene);
  // The third class takes tab10's third colour, whatever its label; drawn opaque in panel 1.
  CHECK(img.at(view.pixel({20, 20}, 0)) == 0x2ca02c);
  CHECK(img.at(view.pixel({1, 0.5}, 0)) == 0x1f77b4);
  CHECK(img.at(view.pixel({11, 2}, 0)) == 0xff7f0e);
  // Panels 2 and 3 share the limits: class 0's inner point is there, faint (¼), under its shape's
  // translucent fill (⅕).
  for (std::size_t panel : {1, 2}) {
    const std::uint32_t faint = img.at(view.pixel({1, 0.5}, panel));
    CHECK_MESSAGE(blend_near(faint, 0x1f77b4, 0.2 + 0.8 * 0.25, 0xffffff), std::hex << faint);
  }
  // Empty space is white; the legend column holds each class colour.
  CHECK(img.at(view.pixel({10, 15}, 0)) == 0xffffff);
  for (std::uint32_t colour : {0x1f77b4u, 0xff7f0eu, 0x2ca02cu}) {
    bool found = false;
    for (int y = 0; y < img.height; ++y)
      for (int x = 3 * 300; x < img.width; ++x) found = found || img.rgb[y * img.width + x] == colour;
    CHECK_MESSAGE(found, std::hex << colour);
  }
}

TEST_CASE("plot_projection: equal aspect and the same limits in every panel") {
  OpContext ctx = figure_inputs(true, true);
  const plot::View view = plot::view_of(plot::scene_of(ctx));
  const plot::XY a = view.pixel({0, 0}, 0), b = view.pixel({20, 0}, 0), c = view.pixel({0, 20}, 0);
  CHECK(b.x - a.x == doctest::Approx(a.y - c.y));  // y grows upwards
  CHECK(view.pixel({0, 0}, 2).x - a.x == doctest::Approx(600));
  // Everything drawn lies inside panel 1's 300 px, the ellipses (wider than the points) included.
  for (double x : {-2.0, 22.0})
    for (double y : {-2.0, 22.0}) {
      const plot::XY p = view.pixel({x, y}, 0);
      CHECK(p.x > 0);
      CHECK(p.x < 300);
      CHECK(p.y > 0);
      CHECK(p.y < 300);
    }
}

TEST_CASE("plot_projection: panels follow the inputs given, a title adds a band") {
  OpContext points_only = figure_inputs(false, false);
  CHECK(decode(bytes_of(render(points_only).at("png"))).width == 300 + plot::kLegendWidth);
  OpContext hulls_only = figure_inputs(true, false);
  CHECK(decode(bytes_of(render(hulls_only).at("png"))).width == 2 * 300 + plot::kLegendWidth);
  CHECK(plot::scene_of(hulls_only).panels.at(1).title.rfind("convex hulls", 0) == 0);
  OpContext ellipses_only = figure_inputs(false, true);
  CHECK(plot::scene_of(ellipses_only).panels.at(1).title.rfind("Gaussian ellipses", 0) == 0);

  OpContext titled = figure_inputs(false, false, "MLP fc1, t-SNE");
  const Image img = decode(bytes_of(render(titled).at("png")));
  CHECK(img.height == 300 + plot::kTitleBand);
  std::size_t ink = 0;
  for (int y = 0; y < plot::kTitleBand; ++y)
    for (int x = 0; x < 300; ++x) ink += img.rgb[y * img.width + x] != 0xffffff;
  CHECK(ink > 20);
  // The points moved down by the band.
  CHECK(img.at(plot::view_of(plot::scene_of(titled)).pixel({20, 20}, 0)) == 0x2ca02c);
}

TEST_CASE("plot_projection: the SVG is a whole document of the PNG's size") {
  OpContext ctx = figure_inputs(true, true);
  const std::string svg = bytes_of(render(ctx).at("svg"));
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK_CONTAINS(svg, "<svg");
  CHECK_CONTAINS(svg, "width=\"" + std::to_string(3 * 300 + plot::kLegendWidth) + "px\"");
  CHECK_CONTAINS(svg, "</svg>");
  // tab10's hex colours, written by cairo as percentages: rgb(17.254902%, 62.745098%, 17.254902%).
  CHECK_CONTAINS(svg, "rgb(17.254902%,62.745098%,17.254902%)");
}

TEST_CASE("plot_projection: the same inputs give the same bytes, even after other figures") {
  OpContext ctx = figure_inputs(true, true, "run");
  const Outputs first = render(ctx);
  OpContext other = figure_inputs(false, true, "other");
  render(other);
  const Outputs second = render(ctx);
  CHECK(bytes_of(first.at("png")) == bytes_of(second.at("png")));
  CHECK(bytes_of(first.at("svg")) == bytes_of(second.at("svg")));
}

TEST_CASE("plot_projection: labels of any numeric dtype name the classes as the metric ops do") {
  OpContext ctx = figure_inputs(true, false);
  Tensor labels = Tensor::zeros<double>({kLabels.size()});
  for (std::size_t i = 0; i < kLabels.size(); ++i) labels.data<double>()[i] = kLabels[i] == 5 ? 2.5 : kLabels[i];
  ctx.inputs["labels"] = {labels};
  CHECK_CONTAINS(test::error_of([&] { render(ctx); }), "hulls member '5' is not a class label (classes: 0 1 2.5)");
  ctx.labels["hulls"].back() = "2.5";
  const plot::Scene scene = plot::scene_of(ctx);
  CHECK(scene.classes == std::vector<std::string>{"0", "1", "2.5"});
  CHECK(scene.panels.at(1).shapes.at(2).size() == 3);
}

TEST_CASE("plot_projection: bad points, labels and shapes are refused with a reason") {
  auto run = [](OpContext ctx) {
    ctx.params = YAML::Load("{title: '', width: 100, point_size: 2}");
    render(ctx);
  };
  CHECK_CONTAINS(test::error_of([&] { run(test::labelled_points<double>({0, 0, 0, 1, 1, 1}, 3, {0, 1})); }),
                 "points must be numeric [points, 2], got [2, 3]");
  CHECK_CONTAINS(test::error_of([&] { run(test::labelled_points<double>({0, 0, 1, 1}, 2, {0, 1, 1})); }),
                 "labels must hold one number per point (2), got 3");
  CHECK_CONTAINS(test::error_of([&] { run(test::labelled_points<double>({0, 0, 1, 1, INFINITY, 2}, 2, {0, 1, 1})); }),
                 "NaN or infinite value (point 2)");
  CHECK_CONTAINS(test::error_of([&] { run(test::labelled_points<float>({0, 0, std::nanf(""), 1}, 2, {0, 1})); }),
                 "(point 1)");
  OpContext ctx = figure_inputs(false, true);
  ctx.labels["ellipses"].front() = "3";
  CHECK_CONTAINS(test::error_of([&] { render(ctx); }), "ellipses member '3' is not a class label (classes: 0 1 5)");
  ctx = figure_inputs(true, false);
  ctx.inputs["hulls"].front() = Tensor::zeros<double>({4, 3});
  CHECK_CONTAINS(test::error_of([&] { render(ctx); }), "hulls/0 must be numeric [vertices, 2], got [4, 3]");
}

TEST_CASE("plot_projection: its key holds the font files and the versions of the libraries that draw and encode") {
  const OpSchema op = plot_projection_op();
  REQUIRE(op.files);
  REQUIRE(op.key_extra);
  const std::vector<std::string> fonts = op.files(YAML::Node());
  REQUIRE(fonts.size() == 2);  // regular and bold
  for (const auto& f : fonts) {
    CHECK_MESSAGE(f.find("DejaVuSans") != std::string::npos, f);
    CHECK(std::ifstream(f).good());
  }
  CHECK(fonts[0] != fonts[1]);
  const std::string versions = op.key_extra(YAML::Node());
  CHECK(versions.find(std::string("cairo ") + cairo_version_string() + " ") == 0);
  for (const char* lib : {" pixman ", " freetype ", " fontconfig ", " libpng ", " zlib "})
    CHECK_MESSAGE(versions.find(lib) != std::string::npos, versions);
  CHECK(report_op().key_extra(YAML::Node()).find(versions) != std::string::npos);  // its PNG sprite sheets
}
