#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nodes/report/explorer.h"
#include "nodes/report/ops.h"
#include "nodes/report/page.h"
#include "nodes/report/rendering.h"

namespace untangle {

namespace {

using nlohmann::json;
using page::escape_html;

std::string base64(const std::vector<unsigned char>& bytes) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const unsigned v = bytes[i] << 16 | (i + 1 < bytes.size() ? bytes[i + 1] << 8 : 0) | (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += abc[v >> 18 & 63];
    out += abc[v >> 12 & 63];
    out += i + 1 < bytes.size() ? abc[v >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? abc[v & 63] : '=';
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// A table from the table op's JSON; every value carries the node and port it came from.
std::string table_html(const json& t) {
  std::string h = "<section class=\"table\">\n";
  if (!t["title"].get<std::string>().empty()) h += "<h3>" + escape_html(t["title"].get<std::string>()) + "</h3>\n";
  h += "<table>\n<tr><th></th>";
  for (const auto& c : t["columns"]) h += "<th>" + escape_html(c.get<std::string>()) + "</th>";
  h += "</tr>\n";
  for (const auto& row : t["rows"]) {
    h += "<tr><th>" + escape_html(row["name"].get<std::string>()) + "</th>";
    for (const auto& cell : row["cells"]) {
      const std::string text = escape_html(cell["text"].get<std::string>());
      if (cell.contains("source")) {
        const std::string source = escape_html(cell["source"].get<std::string>());
        h += "<td class=\"value\" title=\"from " + source + "\" data-source=\"" + source + "\">" + text + "</td>";
      } else {
        h += "<td class=\"note\">" + text + "</td>";
      }
    }
    h += "</tr>\n";
  }
  h += "</table>\n<details><summary>where each value comes from</summary><ul>\n";
  for (const auto& row : t["rows"])
    for (std::size_t c = 0; c < row["cells"].size(); ++c)
      if (row["cells"][c].contains("source"))
        h += "<li>" + escape_html(row["name"].get<std::string>()) + " · " + escape_html(t["columns"][c].get<std::string>()) + ": <code>" +
             escape_html(row["cells"][c]["source"].get<std::string>()) + "</code></li>\n";
  return h + "</ul></details>\n</section>\n";
}

// One series as an SVG line chart, x = epoch (1, 2, …).
std::string chart_svg(const std::string& name, const std::vector<double>& v) {
  constexpr double W = 290, H = 170, L = 56, R = 10, T = 22, B = 26;
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  auto px = [&](std::size_t i) { return L + (v.size() > 1 ? (W - L - R) * i / (v.size() - 1.0) : (W - L - R) / 2); };
  auto py = [&](double y) { return T + (H - T - B) * (hi - y) / (hi - lo); };
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(W) + "\" height=\"" + number(H) + "\" role=\"img\">";
  s += "<text x=\"" + number(W / 2) + "\" y=\"14\" text-anchor=\"middle\">" + escape_html(name) + "</text>";
  s += "<rect x=\"" + number(L) + "\" y=\"" + number(T) + "\" width=\"" + number(W - L - R) + "\" height=\"" + number(H - T - B) +
       "\" class=\"frame\"/>";
  s += "<text x=\"" + number(L - 4) + "\" y=\"" + number(T + 10) + "\" text-anchor=\"end\">" + number(hi) + "</text>";
  s += "<text x=\"" + number(L - 4) + "\" y=\"" + number(H - B) + "\" text-anchor=\"end\">" + number(lo) + "</text>";
  s += "<text x=\"" + number((W + L) / 2) + "\" y=\"" + number(H - 6) + "\" text-anchor=\"middle\">epoch 1–" +
       std::to_string(v.size()) + "</text><polyline points=\"";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + number(px(i)) + "," + number(py(v[i]));
  s += "\"/>";
  for (std::size_t i = 0; i < v.size(); ++i)
    s += "<circle cx=\"" + number(px(i)) + "\" cy=\"" + number(py(v[i])) + "\" r=\"2.5\"><title>epoch " + std::to_string(i + 1) +
         ": " + number(v[i]) + "</title></circle>";
  return s + "</svg>";
}

const char* kStyle = R"(body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1650px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:right}
tr th:first-child{text-align:left}td.note{color:#666;font-style:italic}td.value{cursor:help}
details{font-size:.85em;color:#555}pre{background:#f6f6f6;padding:.7em;overflow-x:auto;font-size:.85em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption,.source{font-size:.85em;color:#555}
.charts{display:flex;flex-wrap:wrap;gap:1em}svg text{font-size:11px;fill:#333}svg .frame{fill:none;stroke:#bbb}
svg polyline{fill:none;stroke:#1f77b4;stroke-width:1.8}svg circle{fill:#1f77b4}p.warning{color:#a33})";

// Marks the page once every figure has loaded (or failed), so a headless browser can check it.
const char* kScript = R"(window.addEventListener("load",function(){var imgs=document.images,ok=0;
for(var i=0;i<imgs.length;i++)if(imgs[i].complete&&imgs[i].naturalWidth>0)ok++;
document.body.setAttribute("data-figures",ok+"/"+imgs.length);});)";

Outputs run(OpContext& ctx) {
  // A group's members are named by whatever made them (say, a plugin's op), not by the graph.
  page::Repairs repair;
  for (auto& [port, labels] : ctx.labels)
    for (auto& label : labels) label = repair(label, port + " " + repair_utf8(label));
  const std::string title = ctx.string("title");
  json summary = {{"title", title}, {"tables", json::array()}, {"models", json::object()}, {"curves", json::object()},
                  {"figures", json::array()}};
  std::string body;
  const std::string intro = ctx.string("intro");
  if (!intro.empty()) body += "<p>" + escape_html(intro) + "</p>\n";

  if (ctx.has("tables")) {
    body += "<h2>Results</h2>\n";
    for (std::size_t i = 0; i < ctx.inputs["tables"].size(); ++i) {
      const Tensor& t = ctx.inputs["tables"][i];
      if (t.dtype != DType::str || t.strings.size() != 1)
        throw std::runtime_error("tables takes a table node's json output; " + ctx.labels["tables"][i] + " is not one");
      json parsed;
      try {
        parsed = json::parse(repair(t.strings[0], "tables " + ctx.labels["tables"][i]));
      } catch (const json::exception& e) {
        throw std::runtime_error(ctx.labels["tables"][i] + " is not a table's json: " + e.what());
      }
      body += table_html(parsed);
      summary["tables"].push_back(parsed);
    }
  }
  if (ctx.has("models")) {
    body += "<h2>Models</h2>\n";
    for (std::size_t i = 0; i < ctx.inputs["models"].size(); ++i) {
      const Tensor& t = ctx.inputs["models"][i];
      const std::string& label = ctx.labels["models"][i];
      std::vector<std::string> lines;
      for (const auto& line : t.strings) lines.push_back(repair(line, "models " + label));
      std::string text;
      for (const auto& line : lines) text += line + "\n";
      body += "<h3>" + escape_html(label.substr(0, label.find('.'))) + "</h3>\n<pre>" + escape_html(text) +
              "</pre><p class=\"source\">from <code>" + escape_html(label) + "</code></p>\n";
      summary["models"][label] = lines;
    }
  }
  if (ctx.has("curves")) {
    body += "<h2>Training curves</h2>\n";
    // Members arrive as "source/member": one row of charts per source.
    std::vector<std::string> order;
    std::map<std::string, std::vector<std::pair<std::string, std::vector<double>>>> by_source;
    for (std::size_t i = 0; i < ctx.inputs["curves"].size(); ++i) {
      const std::string& label = ctx.labels["curves"][i];
      const auto slash = label.rfind('/');
      const std::string source = slash == std::string::npos ? label : label.substr(0, slash);
      const std::string member = slash == std::string::npos ? label : label.substr(slash + 1);
      const Tensor& t = ctx.inputs["curves"][i];
      if (t.dtype == DType::str || t.shape.size() != 1)
        throw std::runtime_error("curves takes 1-D series (e.g. a train node's history); " + label + " is not one");
      std::vector<double> v(t.size());
      for (std::size_t k = 0; k < v.size(); ++k) v[k] = t.at(k);
      summary["curves"][source][member] = v;
      if (v.empty() || member == "seconds") continue;
      if (!by_source.count(source)) order.push_back(source);
      by_source[source].push_back({member, v});
    }
    for (const auto& source : order) {
      body += "<h3>" + escape_html(source) + "</h3>\n<div class=\"charts\">";
      for (const auto& [member, v] : by_source[source]) body += chart_svg(member, v);
      body += "</div>\n";
    }
  }
  body += explorer::section(ctx, summary);
  if (ctx.has("figures")) {
    body += "<h2>Figures</h2>\n";
    for (std::size_t i = 0; i < ctx.inputs["figures"].size(); ++i) {
      const Tensor& t = ctx.inputs["figures"][i];
      const std::string& label = ctx.labels["figures"][i];
      if (t.dtype != DType::u8 || t.bytes.size() < 8 || t.bytes[1] != 'P' || t.bytes[2] != 'N' || t.bytes[3] != 'G')
        throw std::runtime_error("figures takes PNG file outputs (e.g. plot_projection.png); " + label + " is not one");
      body += "<figure><img alt=\"" + escape_html(label) + "\" src=\"data:image/png;base64," + base64(t.bytes) +
              "\"><figcaption>from <code>" + escape_html(label) + "</code></figcaption></figure>\n";
      summary["figures"].push_back(label);
    }
  }

  const std::string repaired = repair.message();
  if (!repaired.empty()) {
    ctx.log("warning: " + repaired);
    summary["warnings"] = json::array({repaired});
    body = "<p class=\"warning\">" + escape_html(repaired) + "</p>\n" + body;
  }
  const std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape_html(title) +
                           "</title>\n<style>\n" + kStyle + "\n</style>\n<script>\n" + kScript +
                           "\n</script>\n</head>\n<body>\n<h1>" + escape_html(title) + "</h1>\n" + body + "</body>\n</html>\n";
  const std::string js = summary.dump(1) + "\n";
  return {{"html", Tensor::file(html)}, {"summary", Tensor::file(js)}};
}

}  // namespace

OpSchema report_op() {
  OpSchema op;
  op.name = "report";
  op.light = true;
  // 2: wider margin for the curves' axis labels; 3: the explorer; 4: no < > & in the explorer's
  // data, ' escaped, text that is not UTF-8 repaired
  op.version = 4;
  op.doc = "One self-contained HTML page of results (figures inlined, no network) and the same numbers as JSON.\n"
           "Every value names the node and port it came from. Sections: tables, model summaries, training curves, "
           "explorer (linked interactive views of projections), figures; each input lists its sources.";
  op.inputs = {{"tables", "table nodes' json outputs", true, true},
               {"models", "model summaries (model_summary.summary), shown as text", true, true},
               {"curves", "groups of 1-D series, e.g. train.history: a chart per series", true, true},
               {"figures", "PNG file outputs, e.g. plot_projection.png", true, true},
               {"views", "projections' points [N, 2] of one point set, e.g. pca.points: an interactive view each", true, true},
               {"images", "the N images the points stand for, grey [N, H, W(, 1)], e.g. subset.x: shown under the pointer", true},
               {"labels", "the N points' classes, e.g. subset.y; needed with views", true},
               {"predictions", "class probabilities [N, classes] of models, e.g. evaluate.probabilities", true, true}};
  PortSpec html{"html", "the page (u8 bytes)"}, summary{"summary", "the numbers as JSON (u8 bytes)"};
  html.file = "html";
  summary.file = "summary.json";
  op.outputs = {html, summary};
  ParamSpec text{"text", ParamType::string, "", std::nullopt};
  ParamSpec view_titles{"view_titles", ParamType::list, "a title per view, in order (default: the views' nodes)", "[]"};
  view_titles.items = {text};
  ParamSpec model_names{"model_names", ParamType::list, "a name per predictions input (default: their nodes)", "[]"};
  model_names.items = {text};
  op.params = {{"title", ParamType::string, "the page's title", std::nullopt}, {"intro", ParamType::string, "a paragraph under the title", "''"},
               view_titles, model_names};
  op.run = run;
  // The explorer's script and style are compiled in: a change to them changes the page. Its
  // sprite sheets are PNG, encoded by the libraries rendering.h names.
  op.key_extra = [](const YAML::Node&) { return "explorer " + explorer::assets_digest() + " " + rendering::library_versions(); };
  return op;
}

}  // namespace untangle
