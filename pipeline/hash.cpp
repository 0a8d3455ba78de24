#include "pipeline/hash.h"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <xxhash.h>

#include "pipeline/atomic_file.h"

namespace untangle {

namespace {
std::string to_hex(XXH128_hash_t h) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}
XXH3_state_t* st(void* p) { return static_cast<XXH3_state_t*>(p); }
}  // namespace

Hasher::Hasher() : state_(XXH3_createState()) { XXH3_128bits_reset(st(state_)); }
Hasher::~Hasher() { XXH3_freeState(st(state_)); }

Hasher& Hasher::add(const void* data, std::size_t n) {
  unsigned long long len = n;
  XXH3_128bits_update(st(state_), &len, sizeof len);
  XXH3_128bits_update(st(state_), data, n);
  return *this;
}

Hasher& Hasher::add(const std::string& piece) { return add(piece.data(), piece.size()); }

std::string Hasher::hex() const { return to_hex(XXH3_128bits_digest(st(state_))); }

std::string hash_text(const std::string& text) { return Hasher().add(text).hex(); }

std::string file_digest(const std::string& path, const std::string& memo_dir) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) throw std::runtime_error(path + ": cannot read file");
  // Size, mtime and inode miss a file rewritten in place with its mtime set back (cp -p,
  // rsync -t, touch -d); its ctime changes then, and no tool can set it.
  const auto time_text = [](const timespec& t) { return std::to_string(t.tv_sec) + "." + std::to_string(t.tv_nsec); };
  const std::string stamp = path + "\n" + std::to_string(sb.st_size) + "\n" + time_text(sb.st_mtim) + "\n" +
                            std::to_string(sb.st_ino) + "\n" + time_text(sb.st_ctim);
  // ctime ticks coarsely: a file changed a moment ago may change again under the same stamp,
  // so its digest is only remembered once it has been left alone for a second.
  timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const bool settled = (now.tv_sec - sb.st_ctim.tv_sec) + 1e-9 * (now.tv_nsec - sb.st_ctim.tv_nsec) > 1.0;
  std::string memo;
  if (!memo_dir.empty()) {
    memo = memo_dir + "/" + hash_text(path);
    std::ifstream in(memo);
    std::string remembered((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (remembered.size() > 33 && remembered.compare(0, stamp.size(), stamp) == 0 &&
        remembered.size() == stamp.size() + 1 + 32)
      return remembered.substr(stamp.size() + 1);
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open file");
  std::vector<char> buf(1 << 20);
  std::size_t n;
  // One length-prefixed piece per chunk would make the digest depend on chunking; feed raw.
  XXH3_state_t* s = XXH3_createState();
  XXH3_128bits_reset(s);
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) XXH3_128bits_update(s, buf.data(), n);
  std::fclose(f);
  std::string digest = to_hex(XXH3_128bits_digest(s));
  XXH3_freeState(s);
  if (!memo.empty() && settled) {
    try {
      write_file_atomically(memo, stamp + "\n" + digest);
    } catch (const std::exception&) {
      // The memo is an optimisation; a read-only cache still works.
    }
  }
  return digest;
}

}  // namespace untangle
