#include "pipeline/tensor.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <new>

#include "pipeline/hash.h"

namespace untangle {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::u8: return "uint8";
    case DType::i8: return "int8";
    case DType::i16: return "int16";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::str: return "string";
  }
  return "?";
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::u8: case DType::i8: return 1;
    case DType::i16: return 2;
    case DType::i32: case DType::f32: return 4;
    case DType::i64: case DType::f64: return 8;
    case DType::str: return 0;
  }
  return 0;
}

std::size_t element_count(const std::vector<std::size_t>& shape) {
  // Any zero dimension makes the product zero, however large the others.
  if (std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end()) return 0;
  std::size_t n = 1;
  for (auto d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw std::runtime_error("shape " + shape_string(shape) + " has more than 2^64 elements");
  return n;
}

std::size_t byte_count(const std::vector<std::size_t>& shape, DType dtype) {
  std::size_t n;
  if (__builtin_mul_overflow(element_count(shape), dtype_size(dtype), &n))
    throw std::runtime_error("shape " + shape_string(shape) + " of " + dtype_name(dtype) + " needs more than 2^64 bytes");
  return n;
}

std::string bytes_text(std::size_t bytes) {
  static const char* const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, ++u;
  if (u == 0) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", v, units[u]);
  return std::string(text) + " (" + std::to_string(bytes) + " bytes)";
}

void check_memory(std::size_t bytes, const std::string& what, std::size_t max_bytes) {
  if (max_bytes && bytes > max_bytes)
    throw std::runtime_error(what + " needs " + bytes_text(bytes) + ", more than max_bytes = " + std::to_string(max_bytes));
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0 && bytes / static_cast<std::size_t>(page) >= static_cast<std::size_t>(pages))
    throw std::runtime_error(what + " needs " + bytes_text(bytes) + ", more than this machine's memory: " +
                             bytes_text(static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)));
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY && bytes >= as.rlim_cur)
    throw std::runtime_error(what + " needs " + bytes_text(bytes) + ", more than this process may address with ulimit -v: " +
                             bytes_text(as.rlim_cur));
}

std::size_t Tensor::size() const { return element_count(shape); }

Tensor Tensor::allocate(DType dtype, std::vector<std::size_t> shape, const std::string& what, std::size_t max_bytes) {
  if (dtype == DType::str) throw std::logic_error("Tensor::allocate is for numeric tensors");
  if (shape.size() > kMaxRank)
    throw std::runtime_error(what + ": " + std::to_string(shape.size()) + " dimensions, more than a tensor holds (" +
                             std::to_string(kMaxRank) + ")");
  std::size_t n;
  try {
    n = byte_count(shape, dtype);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
  check_memory(n, what + ": shape " + shape_string(shape) + " of " + dtype_name(dtype), max_bytes);
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  try {
    t.bytes.assign(n, 0);
  } catch (const std::bad_alloc&) {
    throw std::runtime_error(what + ": out of memory for shape " + shape_string(t.shape) + " of " + dtype_name(dtype) +
                             " (" + bytes_text(n) + ")");
  }
  return t;
}

double Tensor::at(std::size_t i) const {
  const unsigned char* p = bytes.data();
  switch (dtype) {
    case DType::u8: return reinterpret_cast<const std::uint8_t*>(p)[i];
    case DType::i8: return reinterpret_cast<const std::int8_t*>(p)[i];
    case DType::i16: return reinterpret_cast<const std::int16_t*>(p)[i];
    case DType::i32: return reinterpret_cast<const std::int32_t*>(p)[i];
    case DType::i64: return static_cast<double>(reinterpret_cast<const std::int64_t*>(p)[i]);
    case DType::f32: return reinterpret_cast<const float*>(p)[i];
    case DType::f64: return reinterpret_cast<const double*>(p)[i];
    case DType::str: break;
  }
  throw std::runtime_error("a string tensor has no numeric value");
}

std::string Tensor::digest() const {
  Hasher h;
  h.add(dtype_name(dtype));
  for (auto d : shape) h.add(std::to_string(d));
  h.add("|");
  if (dtype == DType::str) {
    for (const auto& s : strings) {
      h.add(std::to_string(s.size()));
      h.add(s);
    }
  } else {
    h.add(bytes.data(), bytes.size());
  }
  return h.hex();
}

Tensor Tensor::text(std::vector<std::string> values) {
  Tensor t;
  t.dtype = DType::str;
  t.shape = {values.size()};
  t.strings = std::move(values);
  return t;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace untangle
