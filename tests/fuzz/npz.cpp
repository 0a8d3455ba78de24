// .npz archives through the zip reader behind load_npy: a member by a fixed key, and the
// member the central directory names first, whatever its name.
#include "nodes/data/npy.h"
#include "tests/fuzz/fuzz.h"

using namespace untangle;

namespace {

// The name in the first central directory header found, or "" (bounds checked: the bytes are
// the fuzzer's).
std::string first_member(const std::string& zip) {
  const auto at = zip.find("PK\x01\x02");
  if (at == std::string::npos || zip.size() < at + 46) return "";
  const std::size_t n = std::uint8_t(zip[at + 28]) | std::uint8_t(zip[at + 29]) << 8;
  return zip.substr(at + 46, n);
}

void load(const std::string& zip, const std::string& key) {
  try {
    fuzz::check_tensor(parse_npz(zip, key, "fuzz.npz"));
  } catch (const std::runtime_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string zip = fuzz::bytes_of(data, size);
  load(zip, "x");
  const std::string first = first_member(zip);
  if (!first.empty() && first != "x" && first != "x.npy") load(zip, first);
  return 0;
}
