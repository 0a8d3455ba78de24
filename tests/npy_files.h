// .npy files and .npz archives written byte by byte, for load_npy's and the pinned-output tests.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace untangle::test {

// Little-endian bytes of each value, as NumPy writes '<' dtypes.
template <class T> std::string le_bytes(const std::vector<T>& values) {
  std::string out;
  for (T v : values) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // this machine is little-endian, like every one untangle runs on
    out.append(reinterpret_cast<const char*>(b), sizeof(T));
  }
  return out;
}

// The same values with each item's bytes reversed, as a '>' dtype.
inline std::string swap_items(const std::string& data, std::size_t item) {
  std::string out = data;
  for (std::size_t i = 0; i + item <= out.size(); i += item)
    for (std::size_t b = 0; b < item / 2; ++b) std::swap(out[i + b], out[i + item - 1 - b]);
  return out;
}

// An .npy file: magic, version, header length (u16 for 1.0, u32 for 2.0 and 3.0), the header
// as NumPy writes it (padded with spaces and a newline to a multiple of 64), then `data`.
inline std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                       bool fortran = false, int version = 1) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  const std::size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(version);
  out += '\0';
  for (std::size_t b = 0; b < prefix - 8; ++b) out += static_cast<char>((header.size() >> (8 * b)) & 0xFF);
  return out + header + data;
}

inline void put_le(std::string& s, std::uint32_t v, int n) {
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

struct ZipMember {
  std::string name, content;
  bool deflate = false;
};

inline std::string raw_deflate(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A zip archive as np.savez (stored) and np.savez_compressed (deflated) write them: local
// headers with the data, then the central directory and its end record. `zip64_sizes` writes
// 0xFFFFFFFF sizes in the central directory, as a zip64 archive does.
inline std::string zip(const std::vector<ZipMember>& members, bool zip64_sizes = false) {
  std::string out, central;
  for (const auto& m : members) {
    const std::string data = m.deflate ? raw_deflate(m.content) : m.content;
    const auto crc = static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(m.content.data()), static_cast<uInt>(m.content.size())));
    const std::uint16_t method = m.deflate ? 8 : 0;
    const auto offset = static_cast<std::uint32_t>(out.size());
    auto common = [&](std::string& s) {
      put_le(s, 20, 2);  // version needed
      put_le(s, 0, 2);   // flags
      put_le(s, method, 2);
      put_le(s, 0, 4);  // time and date
      put_le(s, crc, 4);
      put_le(s, zip64_sizes ? 0xFFFFFFFF : static_cast<std::uint32_t>(data.size()), 4);
      put_le(s, zip64_sizes ? 0xFFFFFFFF : static_cast<std::uint32_t>(m.content.size()), 4);
      put_le(s, static_cast<std::uint32_t>(m.name.size()), 2);
      put_le(s, 0, 2);  // extra
    };
    put_le(out, 0x04034b50, 4);
    common(out);
    out += m.name + data;
    put_le(central, 0x02014b50, 4);
    put_le(central, 20, 2);  // version made by
    common(central);
    put_le(central, 0, 2);  // comment
    put_le(central, 0, 2);  // disk
    put_le(central, 0, 2);  // internal attributes
    put_le(central, 0, 4);  // external attributes
    put_le(central, offset, 4);
    central += m.name;
  }
  const auto cd = static_cast<std::uint32_t>(out.size());
  out += central;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);  // disk numbers
  put_le(out, static_cast<std::uint32_t>(members.size()), 2);
  put_le(out, static_cast<std::uint32_t>(members.size()), 2);
  put_le(out, static_cast<std::uint32_t>(central.size()), 4);
  put_le(out, cd, 4);
  put_le(out, 0, 2);  // comment
  return out;
}

}  // namespace untangle::test
