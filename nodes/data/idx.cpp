#include "nodes/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <vector>

namespace untangle {

namespace {

std::vector<unsigned char> read_all(const std::string& path) {
  // gzread passes plain files through unchanged, so one reader serves both.
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open");
  std::vector<unsigned char> out;
  std::vector<unsigned char> buf(1 << 20);
  int n;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.insert(out.end(), buf.begin(), buf.begin() + n);
  int err = Z_OK;
  const char* msg = gzerror(f, &err);
  const bool failed = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  // zlib's message starts with the path it was opened with; the error names it once.
  std::string why = failed ? msg : "";
  if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
  gzclose(f);
  if (failed) throw std::runtime_error(path + ": cannot decompress: " + why);
  return out;
}

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

}  // namespace

Tensor read_idx(const std::string& path) {
  const std::vector<unsigned char> raw = read_all(path);
  char hex[16];
  if (raw.size() < 4) throw std::runtime_error(path + ": truncated IDX file (" + std::to_string(raw.size()) + " bytes, no header)");
  std::snprintf(hex, sizeof hex, "0x%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3]);
  if (raw[0] != 0 || raw[1] != 0 || raw[3] == 0)
    throw std::runtime_error(path + ": not an IDX file (magic number " + hex + ")");
  Tensor t;
  switch (raw[2]) {
    case 0x08: t.dtype = DType::u8; break;
    case 0x09: t.dtype = DType::i8; break;
    case 0x0B: t.dtype = DType::i16; break;
    case 0x0C: t.dtype = DType::i32; break;
    case 0x0D: t.dtype = DType::f32; break;
    case 0x0E: t.dtype = DType::f64; break;
    default: throw std::runtime_error(path + ": unknown IDX data type in magic number " + hex);
  }
  const std::size_t rank = raw[3];
  const std::size_t header = 4 + 4 * rank;
  if (raw.size() < header)
    throw std::runtime_error(path + ": truncated IDX file (header needs " + std::to_string(header) + " bytes, file has " +
                             std::to_string(raw.size()) + ")");
  for (std::size_t d = 0; d < rank; ++d) t.shape.push_back(be32(&raw[4 + 4 * d]));
  const std::size_t width = dtype_size(t.dtype);
  const std::size_t have = raw.size() - header;
  // Dimensions come from the file: multiply them without overflowing, against what is there.
  std::size_t need = width;
  for (auto d : t.shape) {
    if (d != 0 && need > have / d) {
      need = have + 1;  // more than the file holds, whatever the exact product
      for (auto z : t.shape) need = z == 0 ? 0 : need;
      break;
    }
    need *= d;
  }
  if (have < need)
    throw std::runtime_error(path + ": truncated IDX file (shape " + shape_string(t.shape) + " needs " + std::to_string(need) +
                             " bytes of data, file has " + std::to_string(have) + ")");
  if (have > need)
    throw std::runtime_error(path + ": " + std::to_string(have - need) + " unexpected bytes after the data of shape " +
                             shape_string(t.shape));
  t.bytes.assign(raw.begin() + header, raw.end());
  // IDX is big-endian; the tensor holds native little-endian values.
  if (width > 1)
    for (std::size_t i = 0; i < t.bytes.size(); i += width) std::reverse(&t.bytes[i], &t.bytes[i] + width);
  return t;
}

}  // namespace untangle
