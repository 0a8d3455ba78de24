// The HDF5 file a program run by the exec op writes as its outputs, read back by the engine
// from HDF5's in-memory file image.
#include "pipeline/store.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/h5_checks.h"

using namespace untangle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    for (const auto& [name, t] : read_h5_image(fuzz::bytes_of(data, size), "fuzz.h5")) fuzz::check_tensor(t);
  } catch (const std::runtime_error&) {
  }
  fuzz::check_all_closed(fuzz::library_ids);
  return 0;
}
