// RgbImage: an 8-bit RGB raster for the CLI's pictures, with PNG output and
// input through libpng's simplified API.
//
// Errors: WritePng / ReadPng return Unavailable (or InvalidArgument for an
// empty image) with libpng's message and the file name.
// Thread-safety: a value type; the functions are safe to call concurrently.
#ifndef DEEPSWEEP_CLIENT_RGB_IMAGE_H_
#define DEEPSWEEP_CLIENT_RGB_IMAGE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deepsweep::client {

using Rgb = std::array<uint8_t, 3>;

class RgbImage {
 public:
  RgbImage() = default;
  // A width x height image filled with `fill`.
  RgbImage(int width, int height, Rgb fill = {0, 0, 0});

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }  // row-major RGB

  Rgb Get(int x, int y) const;
  // Writes are clipped to the image.
  void Set(int x, int y, Rgb color);
  void FillRect(int x, int y, int w, int h, Rgb color);

 private:
  int width_ = 0;
  int height_ = 0;
  std::vector<uint8_t> bytes_;
};

absl::Status WritePng(const std::string& path, const RgbImage& image);
absl::StatusOr<RgbImage> ReadPng(const std::string& path);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_RGB_IMAGE_H_
