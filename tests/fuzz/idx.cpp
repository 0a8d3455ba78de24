// IDX files, plain and gzipped, through the parser behind load_idx and load_mnist.
#include "nodes/data/idx.h"
#include "tests/fuzz/fuzz.h"

using namespace untangle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    fuzz::check_tensor(parse_idx(fuzz::bytes_of(data, size), "fuzz.idx"));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
