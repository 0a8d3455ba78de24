// A tensor is the one value type that flows along graph edges and into the cache:
// a dtype tag, a shape and row-major bytes. Ops convert to xtensor views as they need.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace untangle {

enum class DType : std::uint8_t { u8, i8, i16, i32, i64, f32, f64, str };

const char* dtype_name(DType t);
std::size_t dtype_size(DType t);  // 0 for str

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<std::uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<std::int8_t>() { return DType::i8; }
template <> constexpr DType dtype_of<std::int16_t>() { return DType::i16; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }

// The most dimensions a tensor has: HDF5's limit (H5S_MAX_RANK), since the cache stores every
// tensor as an HDF5 dataset; a deeper shape could be computed but never cached.
constexpr std::size_t kMaxRank = 32;

// Shapes come from files, so their products are checked: these throw std::runtime_error
// when the product does not fit in 64 bits, rather than wrapping to a small number.
std::size_t element_count(const std::vector<std::size_t>& shape);
std::size_t byte_count(const std::vector<std::size_t>& shape, DType dtype);

// Refuses `bytes` that this process can never hold: more than `max_bytes` (when nonzero), the
// machine's physical memory, or the address-space limit (ulimit -v). The message names
// `what` and how much it needs, so a hostile or mistaken size is an error, not a bad_alloc.
void check_memory(std::size_t bytes, const std::string& what, std::size_t max_bytes = 0);

// "1.5 GiB (1610612736 bytes)", for such messages.
std::string bytes_text(std::size_t bytes);

struct Tensor {
  DType dtype = DType::f64;
  std::vector<std::size_t> shape;       // empty: a scalar
  std::vector<unsigned char> bytes;     // numeric data, native (little-endian) order
  std::vector<std::string> strings;     // dtype == str

  std::size_t size() const;  // element count; throws when the shape's product overflows
  bool is_scalar() const { return shape.empty(); }

  template <class T> T* data() {
    check<T>();
    return reinterpret_cast<T*>(bytes.data());
  }
  template <class T> const T* data() const {
    check<T>();
    return reinterpret_cast<const T*>(bytes.data());
  }
  // Element i converted to double, whatever the numeric dtype.
  double at(std::size_t i) const;

  // Content digest: dtype, shape and bytes. Equal digests mean equal tensors.
  std::string digest() const;

  // A zero-filled numeric tensor. Every allocation from a shape goes through here, checked:
  // the rank, the product of the dimensions, and check_memory, with `what` in its messages.
  // Out of memory after all is an error that says how much was asked, never a bad_alloc.
  static Tensor allocate(DType dtype, std::vector<std::size_t> shape, const std::string& what = "a tensor",
                         std::size_t max_bytes = 0);
  template <class T> static Tensor zeros(std::vector<std::size_t> shape) { return allocate(dtype_of<T>(), std::move(shape)); }
  template <class T> static Tensor scalar(T v) {
    Tensor t = zeros<T>({});
    *t.data<T>() = v;
    return t;
  }
  static Tensor text(std::vector<std::string> values);  // 1-D string tensor
  // A file's content as a file output carries it (schema.h, PortSpec::file): u8, 1-D.
  template <class Bytes> static Tensor file(const Bytes& content) {
    Tensor t = zeros<std::uint8_t>({content.size()});
    std::copy(content.begin(), content.end(), t.bytes.begin());
    return t;
  }

 private:
  template <class T> void check() const {
    if (dtype != dtype_of<T>())
      throw std::runtime_error(std::string("tensor holds ") + dtype_name(dtype) + ", not " +
                               dtype_name(dtype_of<T>()));
  }
};

std::string shape_string(const std::vector<std::size_t>& shape);  // "[1000, 28, 28, 1]"

// s as one CSV field: quoted, with quotes doubled, when it holds a comma, a quote or a newline.
std::string csv_field(const std::string& s);

}  // namespace untangle
