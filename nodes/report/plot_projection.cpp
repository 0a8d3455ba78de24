#include "nodes/report/plot_projection.h"

#include <cairo-svg.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <stdexcept>

#include "nodes/metrics/classes.h"
#include "nodes/report/ops.h"
#include "nodes/report/rendering.h"

namespace untangle::plot {

namespace {

// matplotlib's tab10, the palette of the report's figures.
constexpr unsigned kTab10[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                               0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
// Panel title band above the axes, padding around them, legend row height.
constexpr int kPanelTitle = 28, kPad = 12, kLegendRow = 20;

void set_colour(cairo_t* cr, std::size_t c, double alpha) {
  const unsigned rgb = kTab10[c % 10];
  cairo_set_source_rgba(cr, (rgb >> 16 & 255) / 255.0, (rgb >> 8 & 255) / 255.0, (rgb & 255) / 255.0, alpha);
}

// Text whose anchor x is its left end, or its centre when `centred`.
void text(cairo_t* cr, const std::string& s, double x, double baseline, double size, bool bold, bool centred) {
  cairo_select_font_face(cr, rendering::kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_move_to(cr, centred ? x - e.x_bearing - e.width / 2 : x, baseline);
  cairo_show_text(cr, s.c_str());
}

int top_of(const Scene& s) { return s.title.empty() ? 0 : kTitleBand; }

void dots(cairo_t* cr, const Scene& s, const View& v, std::size_t panel, double alpha) {
  // One path per class: a fill per point would make the SVG several times larger.
  for (std::size_t c = 0; c < s.points.size(); ++c) {
    for (const XY& p : s.points[c]) {
      const XY q = v.pixel(p, panel);
      cairo_new_sub_path(cr);
      cairo_arc(cr, q.x, q.y, s.point_size, 0, 2 * M_PI);
    }
    set_colour(cr, c, alpha);
    cairo_fill(cr);
  }
}

void draw_panel(cairo_t* cr, const Scene& s, const View& v, std::size_t i) {
  const Panel& panel = s.panels[i];
  const double left = i * s.width, top = top_of(s);
  text(cr, panel.title, left + s.width / 2.0, top + 19, 13, false, true);
  if (panel.shapes.empty()) {
    dots(cr, s, v, i, 1.0);
  } else {
    dots(cr, s, v, i, 0.25);  // faint: the shapes are what this panel shows
    cairo_set_line_width(cr, 1.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (std::size_t c = 0; c < panel.shapes.size(); ++c) {
      if (panel.shapes[c].empty()) continue;
      cairo_new_path(cr);
      for (const XY& p : panel.shapes[c]) {
        const XY q = v.pixel(p, i);
        cairo_line_to(cr, q.x, q.y);
      }
      cairo_close_path(cr);
      set_colour(cr, c, 0.2);
      cairo_fill_preserve(cr);
      set_colour(cr, c, 1.0);
      cairo_stroke(cr);
    }
  }
  // The frame on half pixels, so that a 1 px line covers whole pixels.
  cairo_rectangle(cr, left + kPad + 0.5, top + kPanelTitle + 0.5, s.width - 2 * kPad - 1,
                  s.width - kPanelTitle - kPad - 1);
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int n) {
  auto& out = *static_cast<std::vector<unsigned char>*>(closure);
  out.insert(out.end(), data, data + n);
  return CAIRO_STATUS_SUCCESS;
}

// cairo names an SVG's page group by a process-wide surface counter (<g id="surface7">), so two
// renders of one figure would differ. Numbers those ids, and references to them, from 1.
void renumber_surface_ids(std::vector<unsigned char>& svg) {
  const std::string in(svg.begin(), svg.end()), key = "surface";
  std::string out;
  std::map<std::string, std::string> ids;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = in.find(key, pos)) != std::string::npos;) {
    const std::size_t digits = hit + key.size();
    std::size_t end = digits;
    while (end < in.size() && std::isdigit(static_cast<unsigned char>(in[end]))) ++end;
    const bool id = end > digits && hit >= 4 && (in[hit - 1] == '#' || in.compare(hit - 4, 4, "id=\"") == 0);
    out.append(in, pos, digits - pos);
    const std::string number = in.substr(digits, end - digits);
    out += id ? ids.emplace(number, std::to_string(ids.size() + 1)).first->second : number;
    pos = end;
  }
  out.append(in, pos, std::string::npos);
  svg.assign(out.begin(), out.end());
}

void check(cairo_status_t status, const char* what) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cairo could not ") + what + ": " + cairo_status_to_string(status));
}

}  // namespace

Size figure_size(const Scene& s) {
  const int legend = 2 * kLegendRow + kLegendRow * static_cast<int>(s.classes.size());
  return {static_cast<int>(s.panels.size()) * s.width + kLegendWidth, top_of(s) + std::max(s.width, legend)};
}

View view_of(const Scene& s) {
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  auto extend = [&](const XY& p) {
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  };
  for (const auto& cls : s.points) std::for_each(cls.begin(), cls.end(), extend);
  for (const auto& panel : s.panels)
    for (const auto& shape : panel.shapes) std::for_each(shape.begin(), shape.end(), extend);
  if (x0 > x1) x0 = y0 = x1 = y1 = 0;  // nothing to show
  double span = std::max(x1 - x0, y1 - y0);
  if (!(span > 0)) span = 1;  // a single spot
  const double margin = 0.05 * span;
  const double w = s.width - 2 * kPad, h = s.width - kPanelTitle - kPad;
  const double scale = std::min(w / (x1 - x0 + 2 * margin), h / (y1 - y0 + 2 * margin));
  // Equal aspect: the limits grow along the roomier axis, the data stays centred.
  return {scale, kPad + w / 2 - scale * (x0 + x1) / 2, top_of(s) + kPanelTitle + h / 2 + scale * (y0 + y1) / 2,
          s.width};
}

void draw(cairo_t* cr, const Scene& s) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  const View v = view_of(s);
  for (std::size_t i = 0; i < s.panels.size(); ++i) draw_panel(cr, s, v, i);
  const double panels = static_cast<double>(s.panels.size() * s.width);
  if (!s.title.empty()) text(cr, s.title, panels / 2, 24, 16, true, true);
  const double top = top_of(s);
  text(cr, "class", panels + 10, top + 19, 13, true, false);
  for (std::size_t c = 0; c < s.classes.size(); ++c) {
    const double y = top + kPanelTitle + kLegendRow * (c + 0.5);
    cairo_new_path(cr);  // text leaves a current point that the arc would join with a line
    cairo_arc(cr, panels + 16, y, 5, 0, 2 * M_PI);
    set_colour(cr, c, 1.0);
    cairo_fill(cr);
    text(cr, s.classes[c], panels + 28, y + 4.5, 12, false, false);
  }
}

std::vector<unsigned char> png_of(const Scene& s) {
  const Size size = figure_size(s);
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, size.width, size.height);
  cairo_t* cr = cairo_create(surface);
  draw(cr, s);
  const cairo_status_t drawn = cairo_status(cr);
  cairo_destroy(cr);
  std::vector<unsigned char> out;
  const cairo_status_t written = drawn ? drawn : cairo_surface_write_to_png_stream(surface, append, &out);
  cairo_surface_destroy(surface);
  check(written, "draw the PNG");
  return out;
}

std::vector<unsigned char> svg_of(const Scene& s) {
  const Size size = figure_size(s);
  std::vector<unsigned char> out;
  cairo_surface_t* surface = cairo_svg_surface_create_for_stream(append, &out, size.width, size.height);
  cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX);  // the PNG's pixels, not points
  cairo_t* cr = cairo_create(surface);
  draw(cr, s);
  const cairo_status_t drawn = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);  // writes the document
  const cairo_status_t written = drawn ? drawn : cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  check(written, "draw the SVG");
  renumber_surface_ids(out);
  return out;
}

namespace {

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

double scalar_input(const OpContext& ctx, const std::string& port) {
  const Tensor& t = ctx.input(port);
  if (t.dtype == DType::str || t.size() != 1)
    throw std::runtime_error(port + " must be a single number, got " + shape_string(t.shape));
  return t.at(0);
}

// A panel of one outline per class from a group input, matched to the classes by member name.
void add_shapes(Scene& s, const OpContext& ctx, const std::string& port, const std::string& overlap,
                const std::string& title) {
  if (!ctx.has(port)) return;
  Panel panel{title, std::vector<std::vector<XY>>(s.classes.size())};
  if (ctx.has(overlap)) panel.title += " — mean overlap " + fixed3(scalar_input(ctx, overlap));
  const auto& members = ctx.inputs.at(port);
  const auto names = ctx.labels.count(port) ? ctx.labels.at(port) : std::vector<std::string>();
  for (std::size_t m = 0; m < members.size(); ++m) {
    const std::string name = m < names.size() ? names[m] : "";
    const auto c = std::find(s.classes.begin(), s.classes.end(), name) - s.classes.begin();
    if (c == static_cast<std::ptrdiff_t>(s.classes.size())) {
      std::string known;
      for (const auto& k : s.classes) known += (known.empty() ? "" : " ") + k;
      throw std::runtime_error(port + " member '" + name + "' is not a class label (classes: " + known + ")");
    }
    const Tensor& t = members[m];
    if (t.dtype == DType::str || t.shape.size() != 2 || t.shape[1] != 2)
      throw std::runtime_error(port + "/" + name + " must be numeric [vertices, 2], got " + shape_string(t.shape));
    for (std::size_t v = 0; v < t.shape[0]; ++v) {
      const XY p{t.at(2 * v), t.at(2 * v + 1)};
      if (!std::isfinite(p.x) || !std::isfinite(p.y))
        throw std::runtime_error(port + "/" + name + " holds a NaN or infinite value (vertex " + std::to_string(v) + ")");
      panel.shapes[c].push_back(p);
    }
  }
  s.panels.push_back(panel);
}

}  // namespace

Scene scene_of(const OpContext& ctx) {
  const Tensor& labels = ctx.input("labels");
  // A NaN label would break the ordering of the classes.
  if (labels.dtype != DType::str)
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (!std::isfinite(labels.at(i)))
        throw std::runtime_error("labels hold a NaN or infinite value (point " + std::to_string(i) + ")");
  Scene s;
  for (const auto& [label, pts] : points_by_class(ctx.input("points"), labels)) {
    s.classes.push_back(label_text(label));
    s.points.emplace_back();
    for (const Point2& p : pts) s.points.back().push_back({p.x, p.y});
  }
  s.title = ctx.string("title");
  s.width = static_cast<int>(ctx.integer("width"));
  s.point_size = ctx.number("point_size");
  s.panels.push_back({ctx.has("nh") ? "points — neighbourhood hit " + fixed3(scalar_input(ctx, "nh")) : "points", {}});
  add_shapes(s, ctx, "hulls", "hull_overlap", "convex hulls");
  add_shapes(s, ctx, "ellipses", "ellipse_overlap", "Gaussian ellipses");
  return s;
}

}  // namespace untangle::plot

namespace untangle {

OpSchema plot_projection_op() {
  OpSchema op;
  op.name = "plot_projection";
  op.light = true;
  op.doc = "The report's figure of a 2-D projection: the points coloured by class, then (when given) the classes' "
           "convex hulls and their Gaussian ellipses, each panel titled with its metric; one legend, the same limits "
           "and equal aspect in every panel. Drawn with cairo as PNG and SVG.";
  op.inputs = {{"points", "numeric [n, 2]: the projection"},
               {"labels", "numeric [n]: one label per point; classes are the distinct labels in increasing order"},
               {"nh", "scalar: neighbourhood hit, shown in the points panel's title", true},
               {"hulls", "group: one polygon [vertices, 2] per class, named by its label (convex_hulls.hulls); "
                         "adds the hulls panel", true, false, true},
               {"hull_overlap", "scalar: mean hull overlap, shown in the hulls panel's title", true},
               {"ellipses", "group: one polygon [vertices, 2] per class, named by its label "
                            "(gaussian_ellipses.ellipses); adds the ellipses panel", true, false, true},
               {"ellipse_overlap", "scalar: mean ellipse overlap, shown in the ellipses panel's title", true}};
  PortSpec png{"png", "u8 [bytes]: the figure as a PNG file"}, svg{"svg", "u8 [bytes]: the figure as an SVG file"};
  png.file = "png", svg.file = "svg";
  op.outputs = {png, svg};
  ParamSpec title{"title", ParamType::string, "the figure's title; empty: none", "''"};
  ParamSpec width{"width", ParamType::integer, "px per panel (panels are square)", "500"};
  width.min = 100, width.max = 4000;  // three panels of 4000 px are a 190 MB image already
  ParamSpec point_size{"point_size", ParamType::number, "radius of a point's dot, px", "2"};
  point_size.min = 0;
  op.params = {title, width, point_size};
  // The text's font and the drawing and encoding libraries shape the bytes too (rendering.h).
  op.files = [](const YAML::Node&) { return rendering::font_files(); };
  op.key_extra = [](const YAML::Node&) { return rendering::library_versions(); };
  op.run = [](OpContext& ctx) {
    const plot::Scene s = plot::scene_of(ctx);
    return Outputs{{"png", Tensor::file(plot::png_of(s))}, {"svg", Tensor::file(plot::svg_of(s))}};
  };
  return op;
}

}  // namespace untangle
