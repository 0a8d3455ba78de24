#include "nodes/data/limits.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace untangle {

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

ParamSpec max_bytes_param() {
  ParamSpec p{"max_bytes", ParamType::integer,
              "refuse any loaded tensor of more bytes than this; 0: only what the machine cannot hold", "0"};
  p.min = 0;
  p.hashed = false;
  return p;
}

std::size_t max_bytes(const OpContext& ctx) { return static_cast<std::size_t>(ctx.integer("max_bytes")); }

void note_expansion(OpContext& ctx, const std::string& what, const Tensor& t, std::size_t file_bytes) {
  // Sizes people expect from an uncompressed file pass silently; a hundredfold growth of more
  // than 64 MiB is worth a line.
  const std::size_t bytes = t.bytes.size();
  if (bytes > (std::size_t{64} << 20) && bytes / 100 > file_bytes)
    ctx.log(what + ": " + bytes_text(bytes) + " in memory from " + bytes_text(file_bytes) + " of file");
}

}  // namespace untangle
