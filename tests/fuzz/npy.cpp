// .npy files through the parser behind load_npy.
#include "nodes/data/npy.h"
#include "tests/fuzz/fuzz.h"

using namespace untangle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    fuzz::check_tensor(parse_npy(fuzz::bytes_of(data, size), "fuzz.npy"));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
