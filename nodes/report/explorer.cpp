#include "nodes/report/explorer.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "explorer_assets.h"
#include "nodes/report/page.h"
#include "pipeline/hash.h"

namespace untangle::explorer {

namespace {

using nlohmann::json;

std::string base64(const unsigned char* bytes, std::size_t n) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const unsigned v = bytes[i] << 16 | (i + 1 < n ? bytes[i + 1] << 8 : 0) | (i + 2 < n ? bytes[i + 2] : 0);
    out += abc[v >> 18 & 63];
    out += abc[v >> 12 & 63];
    out += i + 1 < n ? abc[v >> 6 & 63] : '=';
    out += i + 2 < n ? abc[v & 63] : '=';
  }
  return out;
}

template <class T> std::string base64(const std::vector<T>& v) {
  return base64(reinterpret_cast<const unsigned char*>(v.data()), v.size() * sizeof(T));
}

std::string asset(const unsigned char* bytes, std::size_t n) { return std::string(reinterpret_cast<const char*>(bytes), n); }

// Images per sprite sheet: 64 × 64 MNIST digits make a 1792 px square, which the browser decodes
// only when a point on it is first shown; one sheet for 70,000 digits would cost 200 MB decoded.
constexpr std::size_t kColumns = 64, kPerSheet = kColumns * kColumns;

// Grey images as 8-bit PNG sheets, row-major in index order. Float images are taken as [0, 1].
json sprite_sheets(const Tensor& images, std::size_t n) {
  const auto& s = images.shape;
  if (images.dtype == DType::str || s.size() < 3 || s.size() > 4 || (s.size() == 4 && s[3] != 1) || s[0] != n)
    throw std::runtime_error("images must be grey images [" + std::to_string(n) + ", height, width] or [" + std::to_string(n) +
                             ", height, width, 1], one per point; got " + shape_string(s));
  const std::size_t h = s[1], w = s[2];
  const bool is_float = images.dtype == DType::f32 || images.dtype == DType::f64;
  json sheets = json::array();
  for (std::size_t first = 0; first < n; first += kPerSheet) {
    const std::size_t count = std::min(kPerSheet, n - first);
    const std::size_t cols = std::min(count, kColumns), rows = (count + kColumns - 1) / kColumns;
    // A8 is written as an 8-bit greyscale PNG, a quarter of the size of RGB.
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_A8, static_cast<int>(cols * w), static_cast<int>(rows * h));
    cairo_surface_flush(surface);
    unsigned char* px = cairo_image_surface_get_data(surface);
    const std::size_t stride = static_cast<std::size_t>(cairo_image_surface_get_stride(surface));
    std::fill(px, px + stride * rows * h, 0);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t i = first + k, ox = k % kColumns * w, oy = k / kColumns * h;
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
          const double v = images.at((i * h + y) * w + x);
          px[(oy + y) * stride + ox + x] =
              static_cast<unsigned char>(is_float ? std::lround(std::clamp(v, 0.0, 1.0) * 255) : std::clamp(v, 0.0, 255.0));
        }
    }
    cairo_surface_mark_dirty(surface);
    std::vector<unsigned char> png;
    const auto status = cairo_surface_write_to_png_stream(
        surface,
        [](void* out, const unsigned char* data, unsigned int length) {
          auto* bytes = static_cast<std::vector<unsigned char>*>(out);
          bytes->insert(bytes->end(), data, data + length);
          return CAIRO_STATUS_SUCCESS;
        },
        &png);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS) throw std::runtime_error(std::string("cannot write a sprite sheet: ") + cairo_status_to_string(status));
    sheets.push_back(base64(png));
  }
  return {{"width", w}, {"height", h}, {"columns", kColumns}, {"per_sheet", kPerSheet}, {"sheets", sheets}};
}

// Points quantised to 16 bits over their bounding box: a 65,536th of the map is far below a
// screen pixel, and it halves the page.
json view(const Tensor& points, const std::string& title, const std::string& source, std::size_t n) {
  if (points.dtype == DType::str || points.shape.size() != 2 || points.shape[1] != 2 || points.shape[0] != n)
    throw std::runtime_error("views take 2-D points [" + std::to_string(n) + ", 2], one per image; " + source + " is " +
                             shape_string(points.shape));
  double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
  for (std::size_t i = 0; i < 2 * n; ++i) {
    const double v = points.at(i);
    if (!std::isfinite(v)) throw std::runtime_error(source + " holds a NaN or infinite value (point " + std::to_string(i / 2) + ")");
    lo[i % 2] = std::min(lo[i % 2], v), hi[i % 2] = std::max(hi[i % 2], v);
  }
  std::vector<std::uint16_t> q(2 * n);
  for (std::size_t i = 0; i < 2 * n; ++i) {
    const double span = hi[i % 2] - lo[i % 2];
    q[i] = static_cast<std::uint16_t>(span > 0 ? std::lround((points.at(i) - lo[i % 2]) / span * 65535) : 32768);
  }
  return {{"title", title}, {"source", source}, {"x", {lo[0], hi[0]}}, {"y", {lo[1], hi[1]}}, {"points", base64(q)}};
}

std::vector<std::string> strings(const YAML::Node& list) {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item.as<std::string>());
  return out;
}

// "manifold/mlp_eval.probabilities" → "manifold/mlp_eval"
std::string node_of(const std::string& label) { return label.substr(0, label.rfind('.')); }

}  // namespace

std::string assets_digest() {
  return hash_text(asset(kExplorerJs, kExplorerJs_size) + asset(kExplorerCss, kExplorerCss_size));
}

std::string section(const OpContext& ctx, json& summary) {
  if (!ctx.has("views")) {
    for (const char* port : {"images", "labels", "predictions"})
      if (ctx.has(port)) throw std::runtime_error(std::string(port) + " belongs to the explorer, which needs views (the projections' points)");
    return "";
  }
  if (!ctx.has("labels")) throw std::runtime_error("views need labels: the class of each point (e.g. labels: first.y)");
  const Tensor& labels = ctx.input("labels");
  if (labels.dtype == DType::str || labels.shape.size() != 1)
    throw std::runtime_error("labels must be 1-D integer class labels, got " + shape_string(labels.shape));
  const std::size_t n = labels.size();
  std::vector<std::uint8_t> y(n);
  std::size_t classes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = labels.at(i);
    if (v != std::floor(v) || v < 0 || v > 255)
      throw std::runtime_error("labels must be whole numbers from 0 to 255; label " + std::to_string(i) + " is " + std::to_string(v));
    y[i] = static_cast<std::uint8_t>(v);
    classes = std::max<std::size_t>(classes, y[i] + 1);
  }

  const auto& points = ctx.inputs.at("views");
  const auto& sources = ctx.labels.at("views");
  auto titles = strings(ctx.params["view_titles"]);
  if (!titles.empty() && titles.size() != points.size())
    throw std::runtime_error("view_titles has " + std::to_string(titles.size()) + " titles for " + std::to_string(points.size()) + " views");
  json data = {{"n", n}, {"labels", base64(y)}, {"views", json::array()}, {"models", json::array()}};
  for (std::size_t v = 0; v < points.size(); ++v) {
    const std::string title = titles.empty() ? node_of(sources[v]) : titles[v];
    data["views"].push_back(view(points[v], title, sources[v], n));
    summary["views"].push_back({{"title", title}, {"source", sources[v]}});
  }

  if (ctx.has("predictions")) {
    const auto& probs = ctx.inputs.at("predictions");
    const auto& from = ctx.labels.at("predictions");
    auto names = strings(ctx.params["model_names"]);
    if (!names.empty() && names.size() != probs.size())
      throw std::runtime_error("model_names has " + std::to_string(names.size()) + " names for " + std::to_string(probs.size()) +
                               " predictions");
    for (std::size_t m = 0; m < probs.size(); ++m) {
      const Tensor& p = probs[m];
      if (p.dtype == DType::str || p.shape.size() != 2 || p.shape[0] != n || p.shape[1] < 2 || p.shape[1] > 256)
        throw std::runtime_error("predictions take class probabilities [" + std::to_string(n) +
                                 ", classes], one row per point (evaluate.probabilities); " + from[m] + " is " + shape_string(p.shape));
      const std::size_t k = p.shape[1], side = std::max(k, classes);
      for (std::size_t i = 0; i < n; ++i) {
        double sum = 0;
        for (std::size_t c = 0; c < k; ++c) sum += p.at(i * k + c);
        if (!(std::abs(sum - 1) < 1e-3))
          throw std::runtime_error("predictions take class probabilities, rows that sum to 1 (evaluate.probabilities); row " +
                                   std::to_string(i) + " of " + from[m] + " sums to " + std::to_string(sum));
      }
      std::vector<std::uint8_t> predicted(n), confidence(n);
      std::vector<std::vector<std::int64_t>> confusion(side, std::vector<std::int64_t>(side, 0));
      for (std::size_t i = 0; i < n; ++i) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < k; ++c)
          if (p.at(i * k + c) > p.at(i * k + best)) best = c;
        predicted[i] = static_cast<std::uint8_t>(best);
        confidence[i] = static_cast<std::uint8_t>(std::lround(std::clamp(p.at(i * k + best), 0.0, 1.0) * 255));
        confusion[y[i]][best]++;
      }
      const std::string name = names.empty() ? node_of(from[m]) : names[m];
      data["models"].push_back({{"name", name}, {"source", from[m]}, {"predicted", base64(predicted)},
                                {"probability", base64(confidence)}, {"confusion", confusion}});
      summary["confusion"][name] = {{"source", from[m]}, {"matrix", confusion}};
    }
  }
  data["classes"] = std::max<std::size_t>(classes, data["models"].empty() ? 0 : data["models"][0]["confusion"].size());
  if (ctx.has("images")) data["images"] = sprite_sheets(ctx.input("images"), n);

  return "<h2>Explore the projections</h2>\n<section id=\"explorer\" class=\"explorer\"></section>\n"
         "<script type=\"application/json\" id=\"explorer-data\">" + page::script_json(data) + "</script>\n<style>\n" +
         asset(kExplorerCss, kExplorerCss_size) + "</style>\n<script>\n" + asset(kExplorerJs, kExplorerJs_size) + "</script>\n";
}

}  // namespace untangle::explorer
