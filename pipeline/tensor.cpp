#include "pipeline/tensor.h"

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

std::size_t Tensor::size() const {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
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
