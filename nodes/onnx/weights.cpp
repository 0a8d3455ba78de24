#include "nodes/onnx/weights.h"

#include <stdexcept>

namespace untangle::onnx {

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string member_of(const std::string& initializer) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : initializer) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '%' || c == '/' || c < 0x20 || c == 0x7f) {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    } else {
      out += ch;
    }
  }
  // HDF5 reads a name of one dot as the group itself.
  return out == "." ? "%2E" : out;
}

std::string initializer_of(const std::string& member) {
  std::string out;
  for (std::size_t i = 0; i < member.size(); ++i) {
    if (member[i] != '%') {
      out += member[i];
      continue;
    }
    const int hi = i + 2 < member.size() ? hex(member[i + 1]) : -1, lo = hi >= 0 ? hex(member[i + 2]) : -1;
    if (lo < 0) throw std::runtime_error("weight '" + member + "' holds a '%' that escapes nothing");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace untangle::onnx
