// NpzWriter: numpy's .npz format, written here: a zip archive of stored
// (uncompressed) entries, each NAME.npy in the .npy format version 1.0:
//   "\x93NUMPY" 1 0, u16 header length, an ASCII dict
//   {'descr': '<f4', 'fortran_order': False, 'shape': (r, c), } padded with
//   spaces to a 64-byte boundary and ended by '\n', then the raw
//   little-endian data in C (row-major) order.
// Zip entries carry zlib's CRC-32; archives and entries must stay below
// 4 GiB (no zip64). numpy.load reads it without allow_pickle.
//
// Thread-safety: a value used by one thread.
#ifndef DEEPSWEEP_CLIENT_NPZ_H_
#define DEEPSWEEP_CLIENT_NPZ_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace deepsweep::client {

class NpzWriter {
 public:
  // float32 array of `shape` (row-major `values`, product of shape values).
  void AddFloat32(std::string_view name, std::vector<int64_t> shape, std::span<const float> values);
  void AddInt64(std::string_view name, std::vector<int64_t> shape, std::span<const int64_t> values);
  // A 0-d unicode string array (numpy dtype '<U<n>').
  void AddString(std::string_view name, std::string_view ascii);
  // The archive; ResourceExhausted beyond the 4 GiB zip limit.
  absl::StatusOr<std::string> Finish() const;

 private:
  void AddNpy(std::string_view name, std::string_view descr, const std::vector<int64_t>& shape,
              std::string data);
  struct Entry {
    std::string name;
    std::string bytes;
  };
  std::vector<Entry> entries_;
};

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_NPZ_H_
