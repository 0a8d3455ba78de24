// Content hashing. XXH3-128 (libxxhash): fast enough that hashing every artifact and data
// file costs less than reading it, and 128 bits make accidental key collisions negligible.
#pragma once
#include <cstddef>
#include <string>

namespace untangle {

class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  // Each piece is length-prefixed, so ("ab","c") and ("a","bc") hash differently.
  Hasher& add(const std::string& piece);
  Hasher& add(const void* data, std::size_t n);
  std::string hex() const;  // 32 lowercase hex digits

 private:
  void* state_;
};

std::string hash_text(const std::string& text);

// Digest of a file's bytes. Remembers (path, size, mtime, inode, ctime) → digest in memo_dir
// when given, so an unchanged multi-megabyte data file is not reread on every run.
std::string file_digest(const std::string& path, const std::string& memo_dir = "");

}  // namespace untangle
