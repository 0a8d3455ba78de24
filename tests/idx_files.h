// IDX files written byte by byte, for the reader's and load_mnist's tests.
#pragma once
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nodes/common/random.h"
#include "tests/helpers.h"

namespace untangle::test {

using Bytes = std::vector<unsigned char>;

inline void append_be32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<unsigned char>(v >> shift));
}

// Magic (0, 0, type, rank), the dims, then `data` as given (already big-endian).
inline Bytes idx(unsigned char type, const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes b{0, 0, type, static_cast<unsigned char>(dims.size())};
  for (auto d : dims) append_be32(b, d);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

inline void write_bytes(const std::string& path, const Bytes& b) { write_file(path, std::string(b.begin(), b.end())); }

inline void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// MNIST's four files with 100 training and 40 test digits (or as many as asked), each digit
// noise around a band of bright rows that depends on its class (i % 10), so that training, PCA
// and t-SNE have something to find.
inline void write_tiny_mnist(const std::string& dir, std::uint32_t n_train = 100, std::uint32_t n_test = 40) {
  Rng rng(3);
  auto set = [&](const char* images, const char* labels, std::uint32_t n) {
    Bytes px, ys;
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto y = static_cast<unsigned char>(i % 10);
      ys.push_back(y);
      for (int p = 0; p < 784; ++p) px.push_back(static_cast<unsigned char>((p / 78 == y ? 180 : 0) + rng.below(60)));
    }
    write_bytes(dir + "/" + images, idx(0x08, {n, 28, 28}, px));
    write_bytes(dir + "/" + labels, idx(0x08, {n}, ys));
  };
  set("train-images-idx3-ubyte", "train-labels-idx1-ubyte", n_train);
  set("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", n_test);
}

}  // namespace untangle::test
