// A report's page as an HTML parser reads it (tests/html_page.py, run by Debian's python3):
// what a browser would build from it, not what a substring search finds in it.
#pragma once
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/helpers.h"

namespace untangle::test {

// Text that breaks a page that does not escape it: "<!--" and "<script>" (after which a script's
// "</script>" no longer ends it), an end tag, both quotes, an entity, a newline and the two
// line terminators of old JavaScript.
inline const std::string kHostile = "<!--<script> </script> \"double\" 'single' &amp; two\nlines \xe2\x80\xa8 \xe2\x80\xa9";

// The text as a YAML double-quoted scalar.
inline std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"' || s[i] == '\\') out += std::string("\\") + s[i];
    else if (s[i] == '\n') out += "\\n";
    else if (s.compare(i, 3, "\xe2\x80\xa8") == 0) out += "\\u2028", i += 2;  // YAML 1.1 breaks lines there
    else if (s.compare(i, 3, "\xe2\x80\xa9") == 0) out += "\\u2029", i += 2;
    else out += s[i];
  }
  return out + "\"";
}

// {"elements": [{"tag", "attrs", "text"}, ...] in document order, "ends": [tag, ...],
// "open": the elements never closed}.
inline nlohmann::json parse_page(const std::string& file) {
  const auto r = run_command("/usr/bin/python3 " + std::string(UNTANGLE_SOURCE_DIR) + "/tests/html_page.py '" + file + "'");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return nlohmann::json::parse(r.out);
}

// The elements of a tag, in document order; with `cls`, only those of that class.
inline std::vector<nlohmann::json> elements(const nlohmann::json& page, const std::string& tag, const std::string& cls = "") {
  std::vector<nlohmann::json> out;
  for (const auto& e : page["elements"])
    if (e["tag"] == tag && (cls.empty() || e["attrs"].value("class", "") == cls)) out.push_back(e);
  return out;
}

// The texts of those elements.
inline std::vector<std::string> texts(const nlohmann::json& page, const std::string& tag, const std::string& cls = "") {
  std::vector<std::string> out;
  for (const auto& e : elements(page, tag, cls)) out.push_back(e["text"]);
  return out;
}

}  // namespace untangle::test
