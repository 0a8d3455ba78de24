// What the fuzz targets share. A loader may refuse its input with std::runtime_error, the
// error users see; anything else that escapes (std::out_of_range, std::bad_alloc, ...) is a
// finding, as are a crash, a sanitizer report and an allocation past -malloc_limit_mb.
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "pipeline/tensor.h"

namespace untangle::fuzz {

inline std::string bytes_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// The input as a file, for loaders that only take a path: in /dev/shm, so that a fuzzing run
// does not wear out a disk, and removed with the object.
struct TempFile {
  std::string path;
  TempFile(const std::string& bytes, const std::string& suffix) {
    std::string tmpl = "/dev/shm/untangle-fuzz-XXXXXX" + suffix;
    const int fd = mkstemps(tmpl.data(), static_cast<int>(suffix.size()));
    if (fd < 0) std::perror("mkstemps"), abort();
    if (write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) std::perror("write"), abort();
    close(fd);
    path = tmpl;
  }
  ~TempFile() { unlink(path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};

// Ops use a loaded tensor without checking it again: its bytes must be exactly its shape's.
inline void check_tensor(const Tensor& t) {
  std::size_t n = 0;
  try {
    n = t.size();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loaded tensor has a shape whose size is an error: %s\n", e.what());
    abort();
  }
  const bool ok = t.dtype == DType::str ? t.strings.size() == n && t.bytes.empty()
                                        : t.bytes.size() / dtype_size(t.dtype) == n && t.bytes.size() % dtype_size(t.dtype) == 0 &&
                                              t.strings.empty();
  if (!ok) {
    std::fprintf(stderr, "loaded tensor %s of %s holds %zu bytes and %zu strings\n", shape_string(t.shape).c_str(),
                 dtype_name(t.dtype), t.bytes.size(), t.strings.size());
    abort();
  }
}

}  // namespace untangle::fuzz
