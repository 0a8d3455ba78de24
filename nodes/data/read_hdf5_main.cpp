// untangle-read-hdf5: reads HDF5 files for untangle in a process of its own (hdf5_child.h)
// and writes the tensors to standard output; an error is a message on standard error and
// exit status 1, usage exit status 2.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "nodes/data/hdf5.h"
#include "nodes/data/hdf5_child.h"
#include "pipeline/store.h"

int main(int argc, char** argv) {
  using namespace untangle;
  const std::string mode = argc > 1 ? argv[1] : "";
  if (!((mode == "dataset" && argc == 5) || (mode == "file" && argc == 3))) {
    std::fprintf(stderr,
                 "usage: untangle-read-hdf5 dataset FILE DATASET MAX_BYTES   one dataset, as load_hdf5 reads it\n"
                 "       untangle-read-hdf5 file FILE                        every dataset at the root, as exec's outputs\n"
                 "  Writes the tensors to standard output in untangle's own stream (nodes/data/hdf5_child.h).\n"
                 "  untangle runs it; it reads HDF5 files in a process of its own, since libhdf5 may crash on\n"
                 "  damaged ones.\n");
    return (argc == 2 && (mode == "-h" || mode == "--help")) ? 0 : 2;
  }
  try {
    Outputs out;
    if (mode == "dataset") {
      out[argv[3]] = read_hdf5(argv[2], argv[3], std::strtoull(argv[4], nullptr, 10));
    } else {
      out = read_h5_file(argv[2]);
    }
    write_tensors(stdout, out);
    // Not through exit(): libhdf5's own clean-up at exit is where some damaged files crash it,
    // after the tensors are out.
    std::_Exit(0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::fflush(stderr);
    std::_Exit(1);
  }
}
