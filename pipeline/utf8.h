// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF.
// Text that reaches JSON or a page must be UTF-8; a graph's is checked when it is planned,
// text from data is repaired where it is shown.
#pragma once
#include <string>

namespace untangle {

// The length of the UTF-8 sequence that starts at s[at], or 0 when the bytes there are none.
inline std::size_t utf8_length(const std::string& s, std::size_t at) {
  auto byte = [&](std::size_t i) { return at + i < s.size() ? static_cast<unsigned char>(s[at + i]) : 0u; };
  const unsigned b0 = byte(0);
  if (b0 < 0x80) return 1;
  // The second byte's range is what rules out overlong forms, surrogates and values past U+10FFFF.
  unsigned lo = 0x80, hi = 0xbf;
  std::size_t n;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) n = 3, lo = b0 == 0xe0 ? 0xa0 : 0x80, hi = b0 == 0xed ? 0x9f : 0xbf;
  else if (b0 >= 0xf0 && b0 <= 0xf4) n = 4, lo = b0 == 0xf0 ? 0x90 : 0x80, hi = b0 == 0xf4 ? 0x8f : 0xbf;
  else return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  return n;
}

// Where the first byte that starts no sequence is, or npos when s is UTF-8.
inline std::size_t invalid_utf8_at(const std::string& s) {
  for (std::size_t at = 0, n; at < s.size(); at += n)
    if ((n = utf8_length(s, at)) == 0) return at;
  return std::string::npos;
}

// Each byte that starts no sequence becomes U+FFFD.
inline std::string repair_utf8(const std::string& s) {
  std::string out;
  for (std::size_t at = 0, n; at < s.size(); at += n ? n : 1)
    out += (n = utf8_length(s, at)) ? s.substr(at, n) : "\xef\xbf\xbd";
  return out;
}

}  // namespace untangle
