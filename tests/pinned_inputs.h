// Source ops for the pinned-output test (tests/pinned_outputs_test.cpp): the fixed inputs every
// op of the pinned graph reads, so that no op reads another computing op's output and a change
// in one op cannot move the keys of the ops below it. Everything here is integer arithmetic and
// divisions by powers of two, so the values are exact floats on any CPU; they come in the forms
// the real ops produce (train's model and weights, a table's JSON, a model summary, a PNG...).
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <zlib.h>

#include "nodes/nn/model.h"
#include "pipeline/registry.h"

namespace untangle::test::pinned {

// splitmix64 of (seed, i): a fixed integer generator of the test's own, so that no change to
// the ops' random numbers can move the inputs.
inline std::uint64_t hash(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed * 0x9e3779b97f4a7c15ull + i + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
// An integer in [lo, hi].
inline int uniform(std::uint64_t seed, std::uint64_t i, int lo, int hi) {
  return lo + static_cast<int>(hash(seed, i) % static_cast<std::uint64_t>(hi - lo + 1));
}

inline ParamSpec integer(const char* name, std::optional<std::string> dflt, double min = 0) {
  ParamSpec p{name, ParamType::integer, "", dflt};
  p.min = min;
  return p;
}

// Labels 0, 1, …, classes−1, then a fixed shuffle of them: every class present, in no order.
inline std::vector<std::uint8_t> labels(std::size_t n, std::size_t classes, std::uint64_t seed) {
  std::vector<std::uint8_t> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<std::uint8_t>(i % classes);
  for (std::size_t i = n; i > 1; --i) std::swap(y[i - 1], y[hash(seed, 1000000 + i) % i]);
  return y;
}

inline Tensor u8_tensor(const std::vector<std::uint8_t>& v) {
  Tensor t = Tensor::zeros<std::uint8_t>({v.size()});
  std::memcpy(t.data<std::uint8_t>(), v.data(), v.size());
  return t;
}

// Images [n, h, w, c] of pixels k/64 (k in 0..64): each class a bright block at a place of its
// own, over integer noise, so a network has something to learn; labels as `labels`.
inline OpSchema images_op() {
  OpSchema op;
  op.name = "fixed_images";
  op.outputs = {{"x", ""}, {"y", ""}};
  op.params = {integer("n", "300", 1), integer("height", "20", 4), integer("width", "20", 4), integer("channels", "1", 1),
               integer("classes", "10", 1), integer("seed", "1")};
  op.run = [](OpContext& ctx) {
    const auto n = static_cast<std::size_t>(ctx.integer("n")), h = static_cast<std::size_t>(ctx.integer("height")),
               w = static_cast<std::size_t>(ctx.integer("width")), c = static_cast<std::size_t>(ctx.integer("channels")),
               classes = static_cast<std::size_t>(ctx.integer("classes"));
    const auto seed = static_cast<std::uint64_t>(ctx.integer("seed"));
    const auto y = labels(n, classes, seed);
    Tensor x = Tensor::zeros<float>({n, h, w, c});
    float* p = x.data<float>();
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t r = 0; r < h; ++r)
        for (std::size_t col = 0; col < w; ++col)
          for (std::size_t ch = 0; ch < c; ++ch) {
            const std::size_t at = ((i * h + r) * w + col) * c + ch;
            const std::size_t br = (y[i] * 3) % (h - 3), bc = (y[i] * 7) % (w - 3);
            const bool block = r >= br && r < br + 4 && col >= bc && col < bc + 4;
            const int k = std::min(64, uniform(seed, at, 0, 24) + (block ? 40 : 0));
            p[at] = static_cast<float>(k) / 64;
          }
    return Outputs{{"x", std::move(x)}, {"y", u8_tensor(y)}};
  };
  return op;
}

// Points [n, dims] of classes in clusters on a grid of step 1/4, with exact ties: every
// `duplicate`-th point repeats an earlier one, the last `copies` columns repeat the first ones,
// and every `between`-th point lies halfway between two earlier points of its class (collinear),
// exactly, as both are on the grid.
// Also each point's class probabilities, rows of k/64 that sum to 1, as evaluate gives them.
inline OpSchema points_op() {
  OpSchema op;
  op.name = "fixed_points";
  op.outputs = {{"points", ""}, {"labels", ""}, {"probabilities", ""}};
  op.params = {integer("n", "300", 1),       integer("dims", "2", 1),     integer("classes", "4", 1),
               integer("seed", "1"),         integer("duplicate", "0"),  integer("copies", "0"),
               integer("between", "0"),      integer("spread", "8", 1)};
  op.run = [](OpContext& ctx) {
    const auto n = static_cast<std::size_t>(ctx.integer("n")), d = static_cast<std::size_t>(ctx.integer("dims")),
               classes = static_cast<std::size_t>(ctx.integer("classes")),
               dup = static_cast<std::size_t>(ctx.integer("duplicate")),
               copies = std::min(d / 2, static_cast<std::size_t>(ctx.integer("copies"))),
               between = static_cast<std::size_t>(ctx.integer("between"));
    const int spread = static_cast<int>(ctx.integer("spread"));
    const auto seed = static_cast<std::uint64_t>(ctx.integer("seed"));
    const auto y = labels(n, classes, seed);
    std::vector<int> g(n * d);  // coordinates in eighths; the drawn ones even
    std::vector<std::size_t> last(classes, n), before(classes, n);  // the class's two latest drawn points
    for (std::size_t i = 0; i < n; ++i) {
      int* row = &g[i * d];
      const std::size_t a = last[y[i]], b = before[y[i]];
      if (dup && i % dup == dup - 1 && a < n) {
        std::copy(&g[a * d], &g[a * d] + d, row);
      } else if (between && i % between == between - 1 && b < n) {
        for (std::size_t j = 0; j < d; ++j) row[j] = (g[a * d + j] + g[b * d + j]) / 2;
      } else {
        for (std::size_t j = 0; j < d; ++j)
          row[j] = 2 * (8 * static_cast<int>((y[i] * 5 + j * 3) % 11) + uniform(seed, i * d + j, -spread, spread));
        before[y[i]] = last[y[i]];
        last[y[i]] = i;
      }
      for (std::size_t j = 0; j < copies; ++j) row[d - copies + j] = row[j];
    }
    Tensor points = Tensor::zeros<float>({n, d});
    for (std::size_t k = 0; k < n * d; ++k) points.data<float>()[k] = static_cast<float>(g[k]) / 8;
    Tensor probs = Tensor::zeros<float>({n, classes});
    for (std::size_t i = 0; i < n; ++i) {
      int left = 64;
      for (std::size_t c = 0; c < classes; ++c) {
        const int k = c + 1 == classes ? left : std::min(left, uniform(seed, 5000000 + i * classes + c, 0, 64 / static_cast<int>(classes)));
        probs.data<float>()[i * classes + c] = static_cast<float>(k) / 64;
        left -= k;
      }
    }
    return Outputs{{"points", std::move(points)}, {"labels", u8_tensor(y)}, {"probabilities", std::move(probs)}};
  };
  return op;
}

// A model architecture and its weights in the forms train gives them (Model::config and
// Model::save), the weights fixed values k/1024 (k in −64..64), biases k/2048.
inline OpSchema model_op() {
  OpSchema op;
  op.name = "fixed_model";
  op.outputs = {{"model", ""}, {"weights", "", false, false, true}};
  ParamSpec input{"input", ParamType::list, "one sample's shape", std::nullopt};
  input.items = {integer("size", std::nullopt, 1)};
  op.params = {nn::Model::schema(), input, integer("seed", "1")};
  op.run = [](OpContext& ctx) {
    nn::Model model = nn::Model::build(ctx.params["model"], ctx.params["input"].as<nn::Shape>());
    const auto seed = static_cast<std::uint64_t>(ctx.integer("seed"));
    std::uint64_t at = 0;
    for (auto& layer : model.layers)
      for (auto* p : layer->params())
        for (auto& v : p->value) v = static_cast<float>(uniform(seed, at++, -64, 64)) / (p->name == "bias" ? 2048 : 1024);
    Outputs out;
    model.save(out, "weights");
    Tensor config;
    config.dtype = DType::str;
    config.strings = {model.config()};
    out["model"] = std::move(config);
    return out;
  };
  return op;
}

// Scalars k/64 (a loss, an accuracy), an integer count, and a training history of five epochs.
inline OpSchema scalars_op() {
  OpSchema op;
  op.name = "fixed_scalars";
  op.outputs = {{"loss", ""}, {"accuracy", ""}, {"count", ""}, {"history", "", false, false, true}};
  op.params = {integer("seed", "1")};
  op.run = [](OpContext& ctx) {
    const auto seed = static_cast<std::uint64_t>(ctx.integer("seed"));
    Outputs out{{"loss", Tensor::scalar(uniform(seed, 0, 1, 256) / 64.0)},
                {"accuracy", Tensor::scalar(uniform(seed, 1, 0, 64) / 64.0)},
                {"count", Tensor::scalar<std::int64_t>(uniform(seed, 2, 0, 1000))}};
    std::uint64_t at = 10;
    for (const char* series : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
      Tensor t = Tensor::zeros<double>({5});
      for (std::size_t e = 0; e < 5; ++e) t.data<double>()[e] = uniform(seed, at++, 0, 128) / 128.0;
      out[std::string("history/") + series] = std::move(t);
    }
    return out;
  };
  return op;
}

// One polygon per class, named by its label, as convex_hulls.hulls and gaussian_ellipses.ellipses
// give them: an irregular octagon of eighths around each class's place, clockwise, open.
inline OpSchema polygons_op() {
  OpSchema op;
  op.name = "fixed_polygons";
  op.outputs = {{"polygons", "", false, false, true}};
  op.params = {integer("classes", "4", 1), integer("seed", "1")};
  op.run = [](OpContext& ctx) {
    const auto classes = static_cast<std::size_t>(ctx.integer("classes"));
    const auto seed = static_cast<std::uint64_t>(ctx.integer("seed"));
    // Counter-clockwise directions of an octagon, then walked backwards: clockwise.
    const int dir[8][2] = {{2, 0}, {1, 1}, {0, 2}, {-1, 1}, {-2, 0}, {-1, -1}, {0, -2}, {1, -1}};
    Outputs out;
    for (std::size_t c = 0; c < classes; ++c) {
      Tensor t = Tensor::zeros<double>({8, 2});
      for (std::size_t v = 0; v < 8; ++v) {
        const int r = uniform(seed, c * 8 + v, 4, 12);
        const auto& u = dir[7 - v];
        t.data<double>()[v * 2] = (8 * static_cast<int>((c * 5) % 11) + u[0] * r) / 8.0;
        t.data<double>()[v * 2 + 1] = (8 * static_cast<int>((c * 5 + 3) % 11) + u[1] * r) / 8.0;
      }
      out["polygons/" + std::to_string(c)] = std::move(t);
    }
    return out;
  };
  return op;
}

// A PNG of w × h grey pixels, deflated as stored blocks (no compressor whose output could vary).
inline std::string png(std::uint32_t w, std::uint32_t h, std::uint64_t seed) {
  auto be32 = [](std::string& s, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>(v >> shift);
  };
  auto chunk = [&](std::string& out, const char* type, const std::string& data) {
    be32(out, static_cast<std::uint32_t>(data.size()));
    const std::string body = type + data;
    out += body;
    be32(out, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  };
  std::string raw;
  for (std::uint32_t r = 0; r < h; ++r) {
    raw += '\0';  // filter: none
    for (std::uint32_t c = 0; c < w; ++c) raw += static_cast<char>(uniform(seed, r * w + c, 0, 255));
  }
  std::string z = "\x78\x01";
  z += '\x01';  // one final stored block
  const auto len = static_cast<std::uint16_t>(raw.size());
  for (std::uint16_t v : {len, static_cast<std::uint16_t>(~len)}) z += static_cast<char>(v & 0xff), z += static_cast<char>(v >> 8);
  z += raw;
  be32(z, static_cast<std::uint32_t>(adler32(1, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(raw.size()))));
  std::string ihdr;
  be32(ihdr, w);
  be32(ihdr, h);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit grey, deflate, no interlace
  std::string out = "\x89PNG\r\n\x1a\n";
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", z);
  chunk(out, "IEND", "");
  return out;
}

// Text in the forms the report reads: a table's JSON (table.json), a model summary
// (model_summary.summary) and a figure (plot_projection.png).
inline OpSchema text_op() {
  OpSchema op;
  op.name = "fixed_text";
  op.outputs = {{"json", ""}, {"summary", ""}, {"png", ""}};
  op.params = {integer("seed", "1")};
  op.run = [](OpContext& ctx) {
    const auto seed = static_cast<std::uint64_t>(ctx.integer("seed"));
    const std::string json =
        R"({"title":"Fixed","columns":["loss","accuracy","seen"],"rows":[)"
        R"({"name":"a","cells":[{"text":"0.2500","source":"a.loss"},{"text":"0.7500","source":"a.accuracy"},{"text":"yes"}]},)"
        R"({"name":"b","cells":[{"text":"1.1250","source":"b.loss"},{"text":"0.5000","source":"b.accuracy"},{"text":"no"}]}]})";
    const std::vector<std::string> summary = {
        "_________________________________________________________________",
        "Layer (type)                 Output Shape              Param #",
        "=================================================================",
        "dense_1 (Dense)              (None, 10)                4010",
        "=================================================================",
        "Total params: 4,010", "Trainable params: 4,010", "Non-trainable params: 0",
        "_________________________________________________________________"};
    return Outputs{{"json", Tensor::text({json})}, {"summary", Tensor::text(summary)}, {"png", Tensor::file(png(12, 9, seed))}};
  };
  return op;
}

inline void register_fixed_ops(Registry& ops) {
  for (auto op : {images_op(), points_op(), model_op(), scalars_op(), polygons_op(), text_op()}) ops.add(std::move(op));
}

}  // namespace untangle::test::pinned
