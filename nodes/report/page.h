// Text on its way into the report's page: names and titles can hold anything, and the page
// must stay whole whatever they hold.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/utf8.h"

namespace untangle::page {

// For HTML text and for attributes in either kind of quotes.
inline std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// JSON for the inside of a <script> element. The HTML parser ends the element at "</script",
// and after "<!--" it takes "<script" as the start of a nested one, after which the real
// "</script>" no longer ends it and the rest of the page becomes script text. JSON has < > &
// only inside strings, where \u003c \u003e \u0026 mean the same; without them the parser sees
// no tag at all. U+2028 and U+2029 end a line in JavaScript before ES2019, so the text stays a
// valid script literal too.
inline std::string script_json(const nlohmann::json& data) {
  const std::string text = data.dump();
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else if (c == '\xe2' && text.compare(i + 1, 2, "\x80\xa8") == 0) out += "\\u2028", i += 2;
    else if (c == '\xe2' && text.compare(i + 1, 2, "\x80\xa9") == 0) out += "\\u2029", i += 2;
    else out += c;
  }
  return out;
}

// Text from data rather than from the graph (an op's strings, a group's member names) may hold
// bytes that are not UTF-8, which neither JSON nor the page can carry: they become U+FFFD, and
// each text repaired is named, so that the page and the run's output can say so. The graph's own
// text is refused when the graph is planned instead.
struct Repairs {
  std::vector<std::string> what;

  std::string operator()(const std::string& s, const std::string& where) {
    if (invalid_utf8_at(s) == std::string::npos) return s;
    what.push_back(where);
    return repair_utf8(s);
  }
  // "" when nothing was repaired.
  std::string message() const {
    std::string list;
    for (const auto& w : what) list += (list.empty() ? "" : ", ") + w;
    return list.empty() ? "" : "shown with \xef\xbf\xbd where the text is not UTF-8: " + list;
  }
};

}  // namespace untangle::page
