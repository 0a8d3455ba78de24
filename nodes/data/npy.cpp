#include "nodes/data/npy.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <stdexcept>

#include "nodes/data/limits.h"

namespace untangle {

namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw std::runtime_error(name + ": " + what); }

std::uint32_t le(const unsigned char* p, int n) {
  std::uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The header is a Python dict literal written by NumPy: string keys; string, boolean and
// tuple-of-integer values. Only that subset is parsed; anything else is an error, never code.
struct Header {
  std::string descr;
  bool fortran = false;
  std::vector<std::size_t> shape;
  bool has_descr = false, has_order = false, has_shape = false;
};

struct Cursor {
  const std::string& s;
  std::size_t i = 0;
  void ws() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) return ++i, true;
    return false;
  }
  bool word(const std::string& w) {
    ws();
    if (s.compare(i, w.size(), w) != 0) return false;
    i += w.size();
    return true;
  }
  bool string(std::string& out) {
    ws();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return false;
    const char q = s[i];
    const auto end = s.find(q, i + 1);
    if (end == std::string::npos) return false;
    out = s.substr(i + 1, end - i - 1);
    i = end + 1;
    return true;
  }
  bool integer(std::size_t& out) {
    ws();
    const std::size_t start = i;
    out = 0;
    bool overflow = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      overflow |= __builtin_mul_overflow(out, 10, &out) || __builtin_add_overflow(out, std::size_t(s[i++] - '0'), &out);
    if (overflow) throw std::overflow_error(s.substr(start, i - start));
    if (i < s.size() && s[i] == 'L') ++i;  // Python 2's long integers
    return i > start;
  }
};

Header parse_header(const std::string& text, const std::string& name) {
  auto bad = [&](const std::string& why) -> Header { fail(name, "cannot parse the .npy header (" + why + "): " + text); };
  Header h;
  Cursor c{text};
  if (!c.eat('{')) return bad("not a dict");
  while (!c.eat('}')) {
    std::string key;
    if (!c.string(key) || !c.eat(':')) return bad("expected 'key':");
    if (key == "descr") {
      c.ws();
      if (c.i < text.size() && text[c.i] == '[') fail(name, "structured dtypes are not supported: " + text);
      if (!c.string(h.descr)) return bad("descr is not a string");
      h.has_descr = true;
    } else if (key == "fortran_order") {
      if (c.word("True")) h.fortran = true;
      else if (!c.word("False")) return bad("fortran_order is not True or False");
      h.has_order = true;
    } else if (key == "shape") {
      if (!c.eat('(')) return bad("shape is not a tuple");
      while (!c.eat(')')) {
        std::size_t d;
        try {
          if (!c.integer(d)) return bad("shape holds a non-integer");
        } catch (const std::overflow_error& e) {
          fail(name, "shape dimension " + std::string(e.what()) + " is more than 2^64: " + text);
        }
        h.shape.push_back(d);
        if (!c.eat(',') && !(c.ws(), c.i < text.size() && text[c.i] == ')')) return bad("shape is not a tuple");
      }
      h.has_shape = true;
    } else {
      return bad("unknown key '" + key + "'");
    }
    if (!c.eat(',') && !(c.ws(), c.i < text.size() && text[c.i] == '}')) return bad("expected ',' or '}'");
  }
  if (!h.has_descr || !h.has_order || !h.has_shape) return bad("descr, fortran_order and shape are required");
  return h;
}

// A NumPy dtype string ('<f4', '|u1', '>i8') → the tensor's dtype, the file's item size and
// whether the file's bytes must be swapped.
struct Layout {
  DType dtype;
  std::size_t file_size;
  bool swap;
};

Layout layout_of(const std::string& descr, const std::string& name) {
  if (descr.size() >= 2 && descr[1] == 'O')
    fail(name, "object arrays (dtype '" + descr + "', Python pickles) are not read, for safety");
  if (descr.size() < 3 || std::string("<>|=").find(descr[0]) == std::string::npos)
    fail(name, "unknown dtype '" + descr + "'");
  const char kind = descr[1];
  const std::string size = descr.substr(2);
  const bool big = descr[0] == '>';
  struct Known {
    char kind;
    const char* size;
    DType dtype;
  };
  // uint16 and uint32 widen to the next signed type, which holds every value.
  static const Known known[] = {{'b', "1", DType::u8},  {'u', "1", DType::u8},  {'i', "1", DType::i8},
                                {'i', "2", DType::i16}, {'i', "4", DType::i32}, {'i', "8", DType::i64},
                                {'u', "2", DType::i32}, {'u', "4", DType::i64}, {'f', "4", DType::f32},
                                {'f', "8", DType::f64}};
  for (const auto& k : known)
    if (k.kind == kind && k.size == size) {
      const std::size_t n = std::stoul(size);
      return {k.dtype, n, big && n > 1};
    }
  fail(name, "dtype '" + descr +
                 "' has no matching tensor type (supported: bool, int8-64, uint8-32, float32, float64)");
}

// Element by element: swap the file's bytes when big-endian, widen unsigned 16/32-bit values.
void convert(const unsigned char* src, const Layout& l, std::size_t n, unsigned char* dst) {
  const std::size_t out = dtype_size(l.dtype);
  for (std::size_t e = 0; e < n; ++e, src += l.file_size, dst += out) {
    std::uint64_t v = 0;
    for (std::size_t b = 0; b < l.file_size; ++b) v |= std::uint64_t(src[l.swap ? l.file_size - 1 - b : b]) << (8 * b);
    for (std::size_t b = 0; b < out; ++b) dst[b] = static_cast<unsigned char>(v >> (8 * b));
  }
}

// Column-major (Fortran) data → row-major: output element by output element, an odometer over
// the index keeps its Fortran offset.
std::vector<unsigned char> to_row_major(const std::vector<unsigned char>& f, const std::vector<std::size_t>& shape,
                                        std::size_t item) {
  std::vector<unsigned char> c(f.size());
  const std::size_t rank = shape.size();
  std::vector<std::size_t> stride(rank, 1), idx(rank, 0);
  for (std::size_t d = 1; d < rank; ++d) stride[d] = stride[d - 1] * shape[d - 1];
  std::size_t off = 0;
  for (std::size_t out = 0, n = f.size() / item; out < n; ++out) {
    std::copy_n(f.begin() + off * item, item, c.begin() + out * item);
    for (std::size_t d = rank; d-- > 0;) {
      off += stride[d];
      if (++idx[d] < shape[d]) break;
      off -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return c;
}

struct Member {
  std::string name;
  std::uint16_t method = 0;
  std::uint32_t crc = 0, packed = 0, size = 0, local = 0;
};

// The zip's central directory, from the end-of-central-directory record at its end.
std::vector<Member> zip_members(const std::string& zip, const std::string& path) {
  const auto* z = reinterpret_cast<const unsigned char*>(zip.data());
  if (zip.size() < 22) fail(path, "not a zip archive (too short)");
  std::size_t eocd = std::string::npos;
  // The record is 22 bytes plus a comment of at most 65535.
  for (std::size_t i = zip.size() - 22 + 1, stop = zip.size() > 22 + 65535 ? zip.size() - 22 - 65535 : 0; i-- > stop;)
    if (le(z + i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) fail(path, "not a zip archive (no end of central directory)");
  const std::uint32_t count = le(z + eocd + 10, 2), cd_size = le(z + eocd + 12, 4), cd = le(z + eocd + 16, 4);
  if (count == 0xFFFF || cd == 0xFFFFFFFF || (eocd >= 20 && le(z + eocd - 20, 4) == 0x07064b50))
    fail(path, "zip64 archives are not supported");
  if (std::size_t(cd) + cd_size > eocd) fail(path, "truncated zip archive (central directory out of bounds)");
  std::vector<Member> out;
  std::size_t p = cd;
  for (std::uint32_t k = 0; k < count; ++k) {
    if (p + 46 > eocd || le(z + p, 4) != 0x02014b50) fail(path, "damaged zip central directory");
    Member m;
    const std::uint32_t flags = le(z + p + 8, 2);
    m.method = static_cast<std::uint16_t>(le(z + p + 10, 2));
    m.crc = le(z + p + 16, 4);
    m.packed = le(z + p + 20, 4);
    m.size = le(z + p + 24, 4);
    const std::uint32_t n = le(z + p + 28, 2), extra = le(z + p + 30, 2), comment = le(z + p + 32, 2);
    m.local = le(z + p + 42, 4);
    if (p + 46 + n > eocd) fail(path, "damaged zip central directory");
    m.name = zip.substr(p + 46, n);
    if (m.packed == 0xFFFFFFFF || m.size == 0xFFFFFFFF || m.local == 0xFFFFFFFF)
      fail(path, "zip64 archives are not supported (member " + m.name + ")");
    if (flags & 1) fail(path, "member " + m.name + " is encrypted");
    out.push_back(m);
    p += 46 + n + extra + comment;
  }
  return out;
}

// A deflated member, inflated a piece at a time: nothing is allocated for it before its own
// .npy header says what it holds, and nothing is inflated past its declared size.
class Inflater {
 public:
  Inflater(const unsigned char* in, std::size_t n, const std::string& name) : name_(name) {
    if (inflateInit2(&zs_, -MAX_WBITS) != Z_OK) fail(name, "cannot start zlib");
    zs_.next_in = const_cast<unsigned char*>(in);
    zs_.avail_in = static_cast<uInt>(n);  // a zip32 member's size fits
  }
  ~Inflater() { inflateEnd(&zs_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Appends up to `count` more bytes to `out`; fewer only at the stream's end.
  void read(std::string& out, std::size_t count) {
    const std::size_t at = out.size();
    out.resize(at + count);
    zs_.next_out = reinterpret_cast<unsigned char*>(out.data() + at);
    zs_.avail_out = static_cast<uInt>(count);
    while (zs_.avail_out > 0 && !ended_) {
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) ended_ = true;
      else if (rc != Z_OK) fail(name_, "cannot inflate (damaged or truncated deflate data)");
    }
    out.resize(out.size() - zs_.avail_out);
  }
  // Whether the stream ends exactly here: one more byte is asked for and must not come.
  bool at_end() {
    std::string probe;
    read(probe, 1);
    return probe.empty();
  }

 private:
  z_stream zs_{};
  std::string name_;
  bool ended_ = false;
};

std::size_t data_offset(const std::string& bytes, const std::string& name);
std::size_t data_bytes(const std::string& bytes, const std::string& name);

std::string member_bytes(const std::string& zip, const Member& m, const std::string& name, std::size_t max_bytes) {
  const auto* z = reinterpret_cast<const unsigned char*>(zip.data());
  // The local header repeats the name and has its own extra field (NumPy writes a zip64 one
  // there); only its lengths are needed, the sizes come from the central directory.
  if (std::size_t(m.local) + 30 > zip.size() || le(z + m.local, 4) != 0x04034b50) fail(name, "damaged zip local header");
  const std::size_t data = std::size_t(m.local) + 30 + le(z + m.local + 26, 2) + le(z + m.local + 28, 2);
  if (data + m.packed > zip.size()) fail(name, "truncated zip member");
  std::string out;
  if (m.method == 0) {
    if (m.packed != m.size) fail(name, "stored member with differing sizes");
    out = zip.substr(data, m.size);
  } else if (m.method == 8) {
    // The .npy prefix, then its header, then exactly the bytes they and the zip both declare.
    Inflater in(z + data, m.packed, name);
    in.read(out, std::min<std::size_t>(m.size, 12));
    const std::size_t offset = data_offset(out, name);
    if (offset > m.size)
      fail(name, "the zip declares " + std::to_string(m.size) + " bytes; the .npy header alone needs " + std::to_string(offset));
    if (out.size() < offset) in.read(out, offset - out.size());  // a header shorter than the 12 bytes read
    const std::size_t need = offset + data_bytes(out, name);
    if (need != m.size)
      fail(name, "the zip declares " + std::to_string(m.size) + " bytes; the .npy header says the member holds " +
                     std::to_string(need));
    check_memory(m.size, name, max_bytes);
    in.read(out, m.size - out.size());
    if (out.size() != m.size || !in.at_end()) fail(name, "inflates to another size than the zip declares (damaged archive)");
  } else {
    fail(name, "zip compression method " + std::to_string(m.method) + " is not supported (only stored and deflated)");
  }
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size()));
  if (crc != m.crc) fail(name, "CRC mismatch (damaged archive)");
  return out;
}

std::string key_of(const std::string& member) {
  const std::string ext = ".npy";
  return member.size() > ext.size() && member.compare(member.size() - ext.size(), ext.size(), ext) == 0
             ? member.substr(0, member.size() - ext.size())
             : member;
}


// NumPy writes headers of a few hundred bytes and by default reads none over 10,000; a longer
// one is damage or an attack, and a stream reader would otherwise have to buffer it.
constexpr std::size_t kMaxHeader = 1 << 20;

// Where the array's data starts in an .npy file: after the magic, the version, the header's
// length and the header. Needs only the first 12 bytes.
std::size_t data_offset(const std::string& bytes, const std::string& name) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 6 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail(name, "not an .npy file (bad magic)");
  if (bytes.size() < 10) fail(name, "truncated .npy file (no header)");
  const int major = b[6];
  if (major < 1 || major > 3) fail(name, "unknown .npy format version " + std::to_string(major) + "." + std::to_string(b[7]));
  // Version 1 has a 16-bit header length; 2 and 3 a 32-bit one (3: the header is UTF-8).
  const std::size_t prefix = major == 1 ? 10 : 12;
  if (bytes.size() < prefix) fail(name, "truncated .npy file (no header)");
  const std::size_t header_len = le(b + 8, major == 1 ? 2 : 4);
  if (header_len > kMaxHeader)
    fail(name, "an .npy header of " + std::to_string(header_len) + " bytes (at most " + std::to_string(kMaxHeader) +
                   " are read)");
  return prefix + header_len;
}

struct Head {
  Header header;
  Layout layout;
  std::size_t offset;  // where the data starts
  std::size_t bytes;   // how many bytes of data the header declares
};

Head read_head(const std::string& bytes, const std::string& name) {
  Head hd;
  hd.offset = data_offset(bytes, name);
  if (bytes.size() < hd.offset) fail(name, "truncated .npy file (header)");
  const std::size_t prefix = bytes[6] == 1 ? 10 : 12;
  std::string text = bytes.substr(prefix, hd.offset - prefix);
  text.erase(text.find_last_not_of(" \n") + 1);  // the padding, kept out of messages
  hd.header = parse_header(text, name);
  hd.layout = layout_of(hd.header.descr, name);
  const std::vector<std::size_t>& shape = hd.header.shape;
  std::size_t n = 0;
  try {
    n = element_count(shape);
  } catch (const std::runtime_error& e) {
    fail(name, e.what());
  }
  if (__builtin_mul_overflow(n, hd.layout.file_size, &hd.bytes))
    fail(name, "shape " + shape_string(shape) + " of " + hd.header.descr + " needs more than 2^64 bytes");
  return hd;
}

std::size_t data_bytes(const std::string& bytes, const std::string& name) { return read_head(bytes, name).bytes; }

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& name, std::size_t max_bytes) {
  const Head hd = read_head(bytes, name);
  const Header& h = hd.header;
  const Layout& l = hd.layout;
  const std::size_t want = hd.bytes, have = bytes.size() - hd.offset;
  if (have < want)
    fail(name, "truncated .npy file: shape " + shape_string(h.shape) + " of " + h.descr + " needs " +
                   std::to_string(want) + " bytes of data, the file has " + std::to_string(have));
  if (have > want)
    fail(name, std::to_string(have - want) + " bytes after the data of shape " + shape_string(h.shape) + " of " + h.descr);
  // The data is all there, so the tensor is at most twice the file (uint16 → int32).
  Tensor t = Tensor::allocate(l.dtype, h.shape, name, max_bytes);
  convert(reinterpret_cast<const unsigned char*>(bytes.data()) + hd.offset, l, t.size(), t.bytes.data());
  if (h.fortran && h.shape.size() > 1) t.bytes = to_row_major(t.bytes, t.shape, dtype_size(l.dtype));
  return t;
}

Tensor parse_npz(const std::string& zip, const std::string& key, const std::string& name, std::size_t max_bytes) {
  const auto members = zip_members(zip, name);
  std::string have;
  for (const auto& m : members) have += (have.empty() ? "" : ", ") + key_of(m.name);
  if (key.empty()) fail(name, "an .npz archive: name one of its arrays (it holds: " + have + ")");
  for (const auto& m : members)
    if (m.name == key || key_of(m.name) == key) {
      const std::string what = name + ", array '" + key + "'";
      return parse_npy(member_bytes(zip, m, what, max_bytes), what, max_bytes);
    }
  fail(name, "no array '" + key + "' (the archive holds: " + (have.empty() ? "nothing" : have) + ")");
}

Tensor read_npy(const std::string& path, const std::string& key, std::size_t max_bytes) {
  const std::string bytes = read_file_bytes(path);
  const bool zip = bytes.compare(0, 4, "PK\x03\x04") == 0;
  if (key.empty() && !zip) return parse_npy(bytes, path, max_bytes);
  return parse_npz(bytes, key, path, max_bytes);
}

}  // namespace untangle
