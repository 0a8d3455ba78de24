#include "pipeline/h5_stored.h"

#include <algorithm>
#include <stdexcept>

namespace untangle {

void check_stored_bytes(hid_t file, hid_t dataset, std::size_t need, const std::string& what) {
  const hid_t dcpl = H5Dget_create_plist(dataset);
  const bool filtered = dcpl >= 0 && H5Pget_nfilters(dcpl) > 0;
  if (dcpl >= 0) H5Pclose(dcpl);
  hsize_t file_size = 0;
  if (H5Fget_filesize(file, &file_size) < 0) file_size = 0;
  const hsize_t stored = std::min<hsize_t>(H5Dget_storage_size(dataset), file_size);
  const std::size_t ratio = filtered ? 1032 : 1;
  if (need / ratio > stored)
    throw std::runtime_error(what + " declares " + std::to_string(need) + " bytes of data; the file holds " +
                             std::to_string(stored) +
                             (filtered ? " (more than compression can pack into them)" : " (unwritten or truncated)"));
}

}  // namespace untangle
