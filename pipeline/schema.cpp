#include "pipeline/schema.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "pipeline/hash.h"

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
const PortSpec* OpSchema::input(const std::string& n) const {
  for (const auto& p : inputs)
    if (p.name == n) return &p;
  return nullptr;
}
const PortSpec* OpSchema::output(const std::string& n) const {
  for (const auto& p : outputs)
    if (p.name == n) return &p;
  return nullptr;
}

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

std::string fmt_bound(double d) { return shortest(d); }

std::string emit_flow(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

}  // namespace

YAML::Node canonical_param(const ParamSpec& spec, const YAML::Node& value, std::string& error) {
  error.clear();
  const bool scalar = value.IsScalar();
  const std::string text = scalar ? value.Scalar() : std::string();
  auto range_error = [&](double v) {
    if (spec.min && v < *spec.min) return spec.name + " must be >= " + fmt_bound(*spec.min) + ", got " + text;
    if (spec.max && v > *spec.max) return spec.name + " must be <= " + fmt_bound(*spec.max) + ", got " + text;
    return std::string();
  };
  switch (spec.type) {
    case ParamType::integer: {
      std::int64_t v = 0;
      if (!scalar || !parse_int(text, v)) {
        error = spec.name + " must be an integer, got " + (scalar ? "'" + text + "'" : "a " + std::string(value.IsMap() ? "map" : "list"));
        return {};
      }
      error = range_error(static_cast<double>(v));
      return YAML::Node(std::to_string(v));
    }
    case ParamType::number: {
      double v = 0;
      if (!scalar || !parse_number(text, v)) {
        error = spec.name + " must be a number, got " + (scalar ? "'" + text + "'" : "a " + std::string(value.IsMap() ? "map" : "list"));
        return {};
      }
      error = range_error(v);
      return YAML::Node(shortest(v));
    }
    case ParamType::boolean: {
      bool b = false;
      if (!scalar || !YAML::convert<bool>::decode(value, b)) {
        error = spec.name + " must be true or false, got " + (scalar ? "'" + text + "'" : "a collection");
        return {};
      }
      return YAML::Node(b ? "true" : "false");
    }
    case ParamType::string:
    case ParamType::path:
      if (!scalar) {
        error = spec.name + " must be a " + param_type_name(spec.type) + ", got a collection";
        return {};
      }
      return YAML::Node(text);
    case ParamType::choice: {
      std::string list;
      for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
      if (scalar)
        for (const auto& c : spec.choices)
          if (c == text) return YAML::Node(text);
      error = spec.name + " must be one of " + list + ", got " + (scalar ? "'" + text + "'" : "a collection");
      return {};
    }
    case ParamType::any:
      return YAML::Clone(value);
  }
  return {};
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
