#include "pipeline/schema.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "pipeline/hash.h"
#include "pipeline/utf8.h"

namespace untangle {

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::integer: return "integer";
    case ParamType::number: return "number";
    case ParamType::boolean: return "boolean";
    case ParamType::string: return "string";
    case ParamType::choice: return "choice";
    case ParamType::path: return "path";
    case ParamType::any: return "any";
    case ParamType::list: return "list";
    case ParamType::record: return "map";
    case ParamType::variant: return "one of";
    case ParamType::dict: return "map of names";
  }
  return "?";
}

bool OpContext::has(const std::string& port) const {
  auto it = inputs.find(port);
  return it != inputs.end() && !it->second.empty();
}

const Tensor& OpContext::input(const std::string& port) const {
  auto it = inputs.find(port);
  if (it == inputs.end() || it->second.empty()) throw std::runtime_error("input '" + port + "' is not connected");
  return it->second.front();
}

std::int64_t OpContext::integer(const std::string& n) const { return params[n].as<std::int64_t>(); }
double OpContext::number(const std::string& n) const { return params[n].as<double>(); }
bool OpContext::boolean(const std::string& n) const { return params[n].as<bool>(); }
std::string OpContext::string(const std::string& n) const { return params[n].as<std::string>(); }

const ParamSpec* OpSchema::param(const std::string& n) const {
  for (const auto& p : params)
    if (p.name == n) return &p;
  return nullptr;
}
const PortSpec* find_port(const std::vector<PortSpec>& ports, const std::string& name) {
  for (const auto& p : ports)
    if (p.name == name) return &p;
  return nullptr;
}
const PortSpec* OpSchema::input(const std::string& n) const { return find_port(inputs, n); }
const PortSpec* OpSchema::output(const std::string& n) const { return find_port(outputs, n); }

namespace {

bool parse_int(const std::string& s, std::int64_t& out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && b != e;
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

std::string shortest(double d) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, p);
}

std::string emit_flow(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

}  // namespace

namespace {

std::string kind(const YAML::Node& v) {
  if (v.IsMap()) return "a map";
  if (v.IsSequence()) return "a list";
  if (!v.IsDefined() || v.IsNull()) return "nothing";
  return "'" + v.Scalar() + "'";
}

std::string names_of(const std::vector<ParamSpec>& specs) {
  std::string list;
  for (const auto& f : specs) list += (list.empty() ? "" : ", ") + f.name;
  return list;
}

std::string bounds_text(const ParamSpec& spec) {
  const std::string lo = spec.min ? (spec.min_open ? "(" : "[") + shortest(*spec.min) : "";
  const std::string hi = spec.max ? shortest(*spec.max) + (spec.max_open ? ")" : "]") : "";
  if (spec.min && spec.max) return " in " + lo + ", " + hi;
  if (spec.min) return std::string(spec.min_open ? " > " : " >= ") + shortest(*spec.min);
  if (spec.max) return std::string(spec.max_open ? " < " : " <= ") + shortest(*spec.max);
  return "";
}

// Walks a value and its schema together. `marks` is the same value as written in the file
// (it may stop early where a ${var} stood for a whole collection); positions come from it, and
// from the nearest enclosing node that has one.
struct Canon {
  std::vector<ParamIssue>& issues;

  void fail(const YAML::Mark& at, std::string message) { issues.push_back({std::move(message), at}); }

  static YAML::Mark here(const YAML::Node& marks, const YAML::Mark& outer) {
    const YAML::Mark m = marks.IsDefined() ? marks.Mark() : YAML::Mark::null_mark();
    return m.is_null() ? outer : m;
  }
  static YAML::Node item(const YAML::Node& marks, std::size_t i) {
    return marks.IsDefined() && marks.IsSequence() && i < marks.size() ? marks[i] : YAML::Node();
  }
  // The value and the key node of `key` in marks, when marks is a map that has it.
  static std::pair<YAML::Node, YAML::Node> entry(const YAML::Node& marks, const std::string& key) {
    if (marks.IsDefined() && marks.IsMap())
      for (auto it = marks.begin(); it != marks.end(); ++it)
        if (it->first.IsScalar() && it->first.Scalar() == key) return {it->second, it->first};
    return {YAML::Node(), YAML::Node()};
  }

  bool in_range(const ParamSpec& spec, double v, const std::string& path, const std::string& text, const YAML::Mark& at) {
    const bool low = spec.min && (spec.min_open ? v <= *spec.min : v < *spec.min);
    const bool high = spec.max && (spec.max_open ? v >= *spec.max : v > *spec.max);
    if (low || high) {
      ParamSpec side = spec;  // name the bound that is broken, as people read one side at a time
      (low ? side.max : side.min).reset();
      fail(at, path + " must be" + bounds_text(side) + ", got " + text);
    }
    return !low && !high;
  }

  YAML::Node run(const ParamSpec& spec, const YAML::Node& value, const YAML::Node& marks, const std::string& path,
                 const YAML::Mark& outer) {
    const std::size_t before = issues.size();
    YAML::Node out = typed(spec, value, marks, path, outer);
    if (spec.check && issues.size() == before) {
      const std::string problem = spec.check(out);
      if (!problem.empty()) fail(here(marks, outer), path + " " + problem);
    }
    return out;
  }

  YAML::Node typed(const ParamSpec& spec, const YAML::Node& value, const YAML::Node& marks, const std::string& path,
                   const YAML::Mark& outer) {
    const YAML::Mark at = here(marks, outer);
    const bool scalar = value.IsScalar();
    const std::string text = scalar ? value.Scalar() : std::string();
    // Every text of a graph may end up in JSON, a page or a file name, none of which takes
    // other bytes than UTF-8.
    if (!utf8(text, path, at)) return YAML::Node();
    switch (spec.type) {
      case ParamType::integer: {
        std::int64_t v = 0;
        if (!scalar || !parse_int(text, v)) return fail(at, path + " must be an integer, got " + kind(value)), YAML::Node();
        in_range(spec, static_cast<double>(v), path, text, at);
        return YAML::Node(std::to_string(v));
      }
      case ParamType::number: {
        double v = 0;
        if (!scalar || !parse_number(text, v)) return fail(at, path + " must be a number, got " + kind(value)), YAML::Node();
        in_range(spec, v, path, text, at);
        return YAML::Node(shortest(v));
      }
      case ParamType::boolean: {
        bool b = false;
        if (!scalar || !YAML::convert<bool>::decode(value, b))
          return fail(at, path + " must be true or false, got " + kind(value)), YAML::Node();
        return YAML::Node(b ? "true" : "false");
      }
      case ParamType::string:
      case ParamType::path:
        if (!scalar) return fail(at, path + " must be a " + param_type_name(spec.type) + ", got " + kind(value)), YAML::Node();
        return YAML::Node(text);
      case ParamType::choice: {
        if (scalar)
          for (const auto& c : spec.choices)
            if (c == text) return YAML::Node(text);
        std::string list;
        for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
        return fail(at, path + " must be one of " + list + ", got " + kind(value)), YAML::Node();
      }
      case ParamType::any:
        return YAML::Clone(value);
      case ParamType::list: return list(spec, value, marks, path, at);
      case ParamType::record: return record(spec, value, marks, path, at);
      case ParamType::variant: return variant(spec, value, marks, path, at);
      case ParamType::dict: return dict(spec, value, marks, path, at);
    }
    return YAML::Node();
  }

  bool utf8(const std::string& text, const std::string& path, const YAML::Mark& at) {
    const std::size_t bad = invalid_utf8_at(text);
    if (bad != std::string::npos) fail(at, path + " must be UTF-8 text; byte " + std::to_string(bad + 1) + " of it is not");
    return bad == std::string::npos;
  }

  YAML::Node finish(const ParamSpec& spec, YAML::Node out, std::size_t issues_before) {
    if (spec.complete && issues.size() == issues_before) spec.complete(out);
    return out;
  }

  YAML::Node list(const ParamSpec& spec, const YAML::Node& value, const YAML::Node& marks, const std::string& path,
                  const YAML::Mark& at) {
    const std::size_t before = issues.size();
    YAML::Node out(YAML::NodeType::Sequence);
    if (spec.length && value.IsScalar()) {
      const YAML::Node one = run(spec.items.at(0), value, marks, path, at);
      for (std::size_t i = 0; i < spec.length; ++i) out.push_back(YAML::Clone(one));
      return finish(spec, out, before);
    }
    if (!value.IsSequence()) {
      fail(at, path + " must be a list" + (spec.length ? " of " + std::to_string(spec.length) + " or a single value" : "") +
                   ", got " + kind(value));
      return YAML::Node();
    }
    const double n = static_cast<double>(value.size());
    if (spec.length && value.size() != spec.length)
      fail(at, path + " must have " + std::to_string(spec.length) + " items, got " + std::to_string(value.size()));
    else if ((spec.min && n < *spec.min) || (spec.max && n > *spec.max))
      fail(at, path + " must have" + bounds_text(spec) + " items, got " + std::to_string(value.size()));
    for (std::size_t i = 0; i < value.size(); ++i)
      out.push_back(run(spec.items.at(0), value[i], item(marks, i), path + "[" + std::to_string(i) + "]", at));
    return finish(spec, out, before);
  }

  YAML::Node record(const ParamSpec& spec, const YAML::Node& value, const YAML::Node& marks, const std::string& path,
                    const YAML::Mark& at) {
    const std::size_t before = issues.size();
    if (!value.IsNull() && !value.IsMap()) {
      fail(at, path + " must be a map (keys: " + names_of(spec.fields) + "), got " + kind(value));
      return YAML::Node();
    }
    if (value.IsMap())
      for (auto it = value.begin(); it != value.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
        if (std::none_of(spec.fields.begin(), spec.fields.end(), [&](const ParamSpec& f) { return f.name == key; }))
          fail(here(entry(marks, key).second, at),
               path + " has no key '" + key + "' (" + (spec.fields.empty() ? "it takes none" : "keys: " + names_of(spec.fields)) + ")");
      }
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& f : spec.fields) {
      if (value.IsMap() && value[f.name]) {
        out[f.name] = run(f, value[f.name], entry(marks, f.name).first, path + "." + f.name, at);
      } else if (f.default_value) {
        out[f.name] = run(f, YAML::Load(*f.default_value), YAML::Node(), path + "." + f.name, at);
      } else if (!f.optional) {
        fail(at, path + " needs key '" + f.name + "'");
      }
    }
    return finish(spec, out, before);
  }

  YAML::Node variant(const ParamSpec& spec, const YAML::Node& value, const YAML::Node& marks, const std::string& path,
                     const YAML::Mark& at) {
    const std::size_t before = issues.size();
    // Nodes are only ever bound here, never assigned to: yaml-cpp's assignment to a bound node
    // rewrites the node it refers to, which would change the graph as written.
    const bool named = value.IsScalar();
    if (!named && !(value.IsMap() && value.size() == 1 && value.begin()->first.IsScalar())) {
      fail(at, path + " must be one of " + names_of(spec.fields) + ", written NAME or {NAME: {...}}, got " + kind(value));
      return YAML::Node();
    }
    const std::string tag = named ? value.Scalar() : value.begin()->first.Scalar();
    const YAML::Node body = named ? YAML::Node() : value.begin()->second;
    const auto written = entry(marks, tag);
    const YAML::Mark tag_at = named ? at : here(written.second, at);
    auto f = std::find_if(spec.fields.begin(), spec.fields.end(), [&](const ParamSpec& x) { return x.name == tag; });
    if (f == spec.fields.end()) {
      fail(tag_at, path + " must be one of " + names_of(spec.fields) + ", got '" + tag + "'");
      return YAML::Node();
    }
    YAML::Node out(YAML::NodeType::Map);
    out[tag] = run(*f, body, written.first, path + "." + tag, tag_at);
    return finish(spec, out, before);
  }

  YAML::Node dict(const ParamSpec& spec, const YAML::Node& value, const YAML::Node& marks, const std::string& path,
                  const YAML::Mark& at) {
    const std::size_t before = issues.size();
    YAML::Node out(YAML::NodeType::Map);
    if (value.IsNull()) return finish(spec, out, before);
    if (!value.IsMap()) return fail(at, path + " must be a map, got " + kind(value)), YAML::Node();
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!it->first.IsScalar()) {
        fail(at, path + " has a key that is not a name");
        continue;
      }
      const std::string key = it->first.Scalar();
      if (!utf8(key, path + " key", here(entry(marks, key).second, at))) continue;
      out[key] = run(spec.items.at(0), it->second, entry(marks, key).first, path + "." + key, at);
    }
    return finish(spec, out, before);
  }
};

}  // namespace

YAML::Node canonical_param(const ParamSpec& spec, const YAML::Node& value, std::vector<ParamIssue>& issues,
                           const YAML::Node& marks) {
  return Canon{issues}.run(spec, value, marks, spec.name, YAML::Mark::null_mark());
}

YAML::Node canonical_param(const ParamSpec& spec, const YAML::Node& value, std::string& error) {
  std::vector<ParamIssue> issues;
  YAML::Node out = canonical_param(spec, value, issues);
  error = issues.empty() ? std::string() : issues.front().message;
  return out;
}

std::string describe_param(const ParamSpec& p, const std::string& indent, bool keyed) {
  std::string line = indent + p.name + ": " + param_type_name(p.type);
  if (p.type == ParamType::choice) {
    std::string c;
    for (const auto& x : p.choices) c += (c.empty() ? "" : "|") + x;
    line += " (" + c + ")";
  }
  if (p.type == ParamType::list && p.length) line += " of " + std::to_string(p.length) + " (or one value for all)";
  if (p.type == ParamType::list && !p.length && (p.min || p.max)) line += ", length" + bounds_text(p);
  else if (p.type != ParamType::list) line += bounds_text(p);
  if (p.default_value) line += ", default " + *p.default_value;
  else if (p.optional) line += ", optional";
  else if (keyed) line += ", required";
  if (!p.doc.empty()) line += ". " + p.doc;
  line += "\n";
  for (const auto& f : p.fields) line += describe_param(f, indent + "  ", p.type == ParamType::record);
  for (const auto& f : p.items) line += describe_param(f, indent + "  ", false);
  return line;
}

std::string params_key_text(const OpSchema& op, const YAML::Node& params) {
  std::string out;
  for (const auto& p : op.params)
    if (p.hashed) out += p.name + "=" + emit_flow(params[p.name]) + "\n";
  return out;
}

std::string port_digest(const std::map<std::string, std::string>& digests, const PortSpec& port) {
  if (!port.group) {
    auto it = digests.find(port.name);
    return it == digests.end() ? std::string() : it->second;
  }
  std::string members = "group\n";
  const std::string prefix = port.name + "/";
  for (auto it = digests.lower_bound(prefix); it != digests.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    members += it->first + " " + it->second + "\n";
  return hash_text(members);
}

std::string params_yaml(const OpSchema& op, const YAML::Node& params) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  for (const auto& p : op.params) e << YAML::Key << p.name << YAML::Value << params[p.name];
  e << YAML::EndMap;
  return op.params.empty() ? std::string("{}") : std::string(e.c_str());
}

}  // namespace untangle
