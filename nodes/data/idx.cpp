#include "nodes/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <new>
#include <stdexcept>
#include <vector>

#include "nodes/data/limits.h"

namespace untangle {

namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw std::runtime_error(name + ": " + what); }

// An IDX file's bytes as they come: straight from the buffer, or inflated from gzip one piece
// at a time, so that a file is never inflated further than its header says it holds.
class Stream {
 public:
  Stream(const std::string& bytes, const std::string& name) : name_(name) {
    in_ = reinterpret_cast<const unsigned char*>(bytes.data());
    left_ = bytes.size();
    gz_ = left_ >= 2 && in_[0] == 0x1f && in_[1] == 0x8b;
    if (gz_ && inflateInit2(&zs_, 15 + 16) != Z_OK) fail(name, "cannot start zlib");
  }
  ~Stream() {
    if (gz_) inflateEnd(&zs_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Up to n bytes into out; fewer only at the end of the data.
  std::size_t read(unsigned char* out, std::size_t n) {
    if (!gz_) {
      const std::size_t k = std::min(n, left_);
      std::copy_n(in_, k, out);
      in_ += k, left_ -= k;
      return k;
    }
    std::size_t got = 0;
    while (got < n && !ended_) {
      // zlib counts in 32 bits; a member's input and output go in pieces of at most 1 GiB.
      const std::size_t step_in = std::min<std::size_t>(left_, 1u << 30), step_out = std::min<std::size_t>(n - got, 1u << 30);
      zs_.next_in = const_cast<unsigned char*>(in_);
      zs_.avail_in = static_cast<uInt>(step_in);
      zs_.next_out = out + got;
      zs_.avail_out = static_cast<uInt>(step_out);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      in_ += step_in - zs_.avail_in, left_ -= step_in - zs_.avail_in;
      got += step_out - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        // Another gzip member may follow (gzip concatenates them); anything else after one is
        // ignored, as gzip and zlib's gzread ignore it.
        if (left_ >= 2 && in_[0] == 0x1f && in_[1] == 0x8b) inflateReset(&zs_);
        else ended_ = true;
      } else if (rc == Z_BUF_ERROR && left_ == 0) {
        fail(name_, "cannot decompress: unexpected end of file");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        fail(name_, std::string("cannot decompress: ") + (zs_.msg ? zs_.msg : "damaged data"));
      }
    }
    return got;
  }

  bool gzipped() const { return gz_; }
  std::size_t plain_left() const { return gz_ ? 0 : left_; }

  // How many bytes remain; gzipped ones counted up to `limit` (then limit + 1), inflated
  // to its end, which checks its CRC, but into a small buffer, never kept.
  std::size_t rest(std::size_t limit) {
    if (!gz_) return left_;
    unsigned char scratch[1 << 14];
    std::size_t n = 0, k;
    while (n <= limit && (k = read(scratch, sizeof scratch)) > 0) n += k;
    return std::min(n, limit + 1);
  }

 private:
  std::string name_;
  const unsigned char* in_;
  std::size_t left_;
  bool gz_, ended_ = false;
  z_stream zs_{};
};

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

}  // namespace

Tensor parse_idx(const std::string& bytes, const std::string& name, std::size_t max_bytes) {
  Stream in(bytes, name);
  unsigned char magic[4];
  const std::size_t got = in.read(magic, 4);
  if (got < 4) fail(name, "truncated IDX file (" + std::to_string(got) + " bytes, no header)");
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%02x%02x%02x%02x", magic[0], magic[1], magic[2], magic[3]);
  if (magic[0] != 0 || magic[1] != 0 || magic[3] == 0) fail(name, std::string("not an IDX file (magic number ") + hex + ")");
  DType dtype;
  switch (magic[2]) {
    case 0x08: dtype = DType::u8; break;
    case 0x09: dtype = DType::i8; break;
    case 0x0B: dtype = DType::i16; break;
    case 0x0C: dtype = DType::i32; break;
    case 0x0D: dtype = DType::f32; break;
    case 0x0E: dtype = DType::f64; break;
    default: fail(name, std::string("unknown IDX data type in magic number ") + hex);
  }
  const std::size_t rank = magic[3];
  if (rank > kMaxRank)
    fail(name, "IDX rank " + std::to_string(rank) + " in magic number " + hex + ": more dimensions than a tensor holds (" +
                   std::to_string(kMaxRank) + ")");
  std::vector<unsigned char> dims(4 * rank);
  const std::size_t header = 4 + dims.size(), got_dims = in.read(dims.data(), dims.size());
  if (got_dims < dims.size())
    fail(name, "truncated IDX file (header needs " + std::to_string(header) + " bytes, file has " +
                   std::to_string(4 + got_dims) + ")");
  std::vector<std::size_t> shape;
  for (std::size_t d = 0; d < rank; ++d) shape.push_back(be32(&dims[4 * d]));
  // At most 32 dimensions of 32 bits: the product may overflow, and is checked.
  std::size_t need;
  try {
    need = byte_count(shape, dtype);
  } catch (const std::runtime_error&) {
    fail(name, "shape " + shape_string(shape) + " of " + dtype_name(dtype) + " needs more than 2^64 bytes");
  }
  // A plain file's data is all there to count: a shape it cannot hold is an error before
  // anything is allocated.
  if (!in.gzipped() && in.plain_left() < need)
    fail(name, "truncated IDX file (shape " + shape_string(shape) + " needs " + std::to_string(need) +
                   " bytes of data, file has " + std::to_string(in.plain_left()) + ")");
  check_memory(need, name + ": shape " + shape_string(shape) + " of " + dtype_name(dtype), max_bytes);

  // The buffer grows with the data that comes, up to `need`: a header that lies costs only
  // what the file really holds.
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  std::size_t have = 0;
  try {
    for (std::size_t cap = std::min<std::size_t>(need, 1 << 20); have < need; cap = std::min(need, 2 * cap)) {
      t.bytes.resize(cap);
      have += in.read(t.bytes.data() + have, cap - have);
      if (have < cap) break;
    }
  } catch (const std::bad_alloc&) {
    fail(name, "out of memory for shape " + shape_string(shape) + " of " + dtype_name(dtype) + " (" + bytes_text(need) + ")");
  }
  if (have < need)
    fail(name, "truncated IDX file (shape " + shape_string(shape) + " needs " + std::to_string(need) +
                   " bytes of data, file has " + std::to_string(have) + ")");
  constexpr std::size_t kCounted = 1 << 20;
  if (const std::size_t extra = in.rest(kCounted))
    fail(name, (in.gzipped() && extra > kCounted ? "more than " + std::to_string(kCounted) : std::to_string(extra)) +
                   " unexpected bytes after the data of shape " + shape_string(shape));
  // IDX is big-endian; the tensor holds native little-endian values.
  const std::size_t width = dtype_size(dtype);
  if (width > 1)
    for (std::size_t i = 0; i < t.bytes.size(); i += width) std::reverse(&t.bytes[i], &t.bytes[i] + width);
  return t;
}

Tensor read_idx(const std::string& path, std::size_t max_bytes) { return parse_idx(read_file_bytes(path), path, max_bytes); }

}  // namespace untangle
