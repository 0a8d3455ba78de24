// HDF5 files through the reader behind load_hdf5, from HDF5's in-memory file image: the
// datasets x and y, and g/x inside a group.
#include "nodes/data/hdf5.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/h5_checks.h"

using namespace untangle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string image = fuzz::bytes_of(data, size);
  for (const char* dataset : {"x", "y", "/g/x"}) {
    try {
      fuzz::check_tensor(read_hdf5_image(image, dataset, "fuzz.h5"));
    } catch (const std::runtime_error&) {
    }
  }
  fuzz::check_all_closed(fuzz::library_ids);
  return 0;
}
