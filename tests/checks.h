// Assertions the suites share.
#pragma once
#include <doctest/doctest.h>

#include <exception>
#include <functional>
#include <string>

#define CHECK_CONTAINS(text, part)                                 \
  CHECK_MESSAGE(std::string(text).find(part) != std::string::npos, \
                "\"" << (text) << "\" does not contain \"" << (part) << "\"")

namespace untangle::test {

// The message of the exception f throws, or a marker when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace untangle::test
