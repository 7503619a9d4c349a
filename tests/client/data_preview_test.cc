#include "client/data_preview.h"

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "client/bitmap_font.h"
#include "client/rgb_image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep::client {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "ds_client";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

TEST(RgbImageTest, PngRoundTrip) {
  RgbImage image(5, 3, {1, 2, 3});
  image.Set(4, 2, {200, 100, 50});
  image.Set(9, 9, {9, 9, 9});  // clipped
  const std::string path = TempPath("round_trip.png");
  ASSERT_TRUE(WritePng(path, image).ok());
  const auto back = ReadPng(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->width(), 5);
  EXPECT_EQ(back->height(), 3);
  EXPECT_EQ(back->bytes(), image.bytes());
  EXPECT_EQ(back->Get(4, 2), (Rgb{200, 100, 50}));
}

TEST(RgbImageTest, UnwritablePathIsAnErrorNamingIt) {
  const absl::Status status = WritePng("/nonexistent-dir/x.png", RgbImage(2, 2));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent-dir/x.png"));
  EXPECT_EQ(WritePng(TempPath("empty.png"), RgbImage()).code(), absl::StatusCode::kInvalidArgument);
}

TEST(BitmapFontTest, DrawsGlyphPixels) {
  EXPECT_EQ(TextWidth("", 2), 0);
  EXPECT_EQ(TextWidth("AB", 2), 14);
  RgbImage image(8, 5);
  const Rgb ink = {255, 255, 255};
  DrawText(image, 0, 0, "1-", 1, ink);
  // '1' = .X. / XX. / .X. / .X. / XXX ; '-' has ink on its middle row only.
  EXPECT_EQ(image.Get(0, 0), (Rgb{0, 0, 0}));
  EXPECT_EQ(image.Get(1, 0), ink);
  EXPECT_EQ(image.Get(0, 1), ink);
  EXPECT_EQ(image.Get(2, 4), ink);
  EXPECT_EQ(image.Get(4, 2), ink);
  EXPECT_EQ(image.Get(4, 1), (Rgb{0, 0, 0}));
}

TEST(DataPreviewTest, GridShowsPixelsAtTheirPlace) {
  ml::Examples examples;
  examples.x = ml::ExampleMatrix::Zero(4, 2);  // two 2 x 2 grey images
  examples.x(3, 1) = 1.0f;                     // bottom-right pixel of image 1
  examples.y = {0, 1};
  ml::DatasetDescription description;
  description.shape = ml::ImageShape{.rows = 2, .cols = 2, .channels = 1};
  description.class_names = {"A", "B"};
  const auto grid = RenderSampleGrid(examples, description, "T", /*columns=*/2, /*zoom=*/4);
  ASSERT_TRUE(grid.ok()) << grid.status();
  int white = 0;
  for (int y = 0; y < grid->height(); ++y) {
    for (int x = 0; x < grid->width(); ++x) white += grid->Get(x, y) == Rgb{255, 255, 255};
  }
  EXPECT_EQ(white, 4 * 4);  // one data pixel, zoomed 4x

  examples.x.resize(5, 2);
  EXPECT_EQ(RenderSampleGrid(examples, description, "T", 2, 4).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DataPreviewTest, WritesADeterministicShapesetPng) {
  DataPreviewOptions options;
  options.count = 9;
  options.out = TempPath("shapeset_a.png");
  ASSERT_TRUE(WriteDataPreview(options).ok());
  options.out = TempPath("shapeset_b.png");
  ASSERT_TRUE(WriteDataPreview(options).ok());
  const auto a = ReadPng(TempPath("shapeset_a.png"));
  const auto b = ReadPng(TempPath("shapeset_b.png"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bytes(), b->bytes());
  EXPECT_GT(a->width(), 3 * 32 * 3);
}

TEST(DataPreviewTest, BadOptionsAreInvalidArgument) {
  DataPreviewOptions options;
  options.out = TempPath("bad.png");
  options.count = 0;
  EXPECT_THAT(WriteDataPreview(options).message(), HasSubstr("--count"));
  options.count = 4;
  options.dataset = "imagenet";
  EXPECT_EQ(WriteDataPreview(options).code(), absl::StatusCode::kInvalidArgument);
  options.dataset = "cifar10";
  options.color = "sepia";
  EXPECT_THAT(WriteDataPreview(options).message(), HasSubstr("sepia"));
}

}  // namespace
}  // namespace deepsweep::client
