#include "client/rgb_image.h"

#include <png.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace deepsweep::client {

RgbImage::RgbImage(int width, int height, Rgb fill)
    : width_(std::max(0, width)), height_(std::max(0, height)) {
  bytes_.resize(static_cast<size_t>(width_) * height_ * 3);
  for (size_t i = 0; i < bytes_.size(); i += 3) std::memcpy(&bytes_[i], fill.data(), 3);
}

Rgb RgbImage::Get(int x, int y) const {
  const size_t i = (static_cast<size_t>(y) * width_ + x) * 3;
  return {bytes_[i], bytes_[i + 1], bytes_[i + 2]};
}

void RgbImage::Set(int x, int y, Rgb color) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  std::memcpy(&bytes_[(static_cast<size_t>(y) * width_ + x) * 3], color.data(), 3);
}

void RgbImage::FillRect(int x, int y, int w, int h, Rgb color) {
  for (int yy = std::max(0, y); yy < std::min(height_, y + h); ++yy) {
    for (int xx = std::max(0, x); xx < std::min(width_, x + w); ++xx) Set(xx, yy, color);
  }
}

absl::Status WritePng(const std::string& path, const RgbImage& image) {
  if (image.width() == 0 || image.height() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write an empty image"));
  }
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width());
  png.height = static_cast<png_uint_32>(image.height());
  png.format = PNG_FORMAT_RGB;
  if (png_image_write_to_file(&png, path.c_str(), /*convert_to_8bit=*/0, image.bytes().data(),
                              /*row_stride=*/0, /*colormap=*/nullptr) == 0) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot write PNG: ", png.message));
  }
  return absl::OkStatus();
}

absl::StatusOr<RgbImage> ReadPng(const std::string& path) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&png, path.c_str()) == 0) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot read PNG: ", png.message));
  }
  png.format = PNG_FORMAT_RGB;
  RgbImage image(static_cast<int>(png.width), static_cast<int>(png.height));
  std::vector<uint8_t> bytes(PNG_IMAGE_SIZE(png));
  if (png_image_finish_read(&png, /*background=*/nullptr, bytes.data(), /*row_stride=*/0,
                            /*colormap=*/nullptr) == 0) {
    png_image_free(&png);
    return absl::UnavailableError(absl::StrCat(path, ": cannot read PNG: ", png.message));
  }
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      const size_t i = (static_cast<size_t>(y) * image.width() + x) * 3;
      image.Set(x, y, {bytes[i], bytes[i + 1], bytes[i + 2]});
    }
  }
  return image;
}

}  // namespace deepsweep::client
