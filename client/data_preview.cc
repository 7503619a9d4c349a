#include "client/data_preview.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/bitmap_font.h"
#include "common/status_macros.h"

namespace deepsweep::client {
namespace {

constexpr Rgb kCanvas = {24, 26, 32};
constexpr Rgb kFrame = {70, 110, 180};
constexpr Rgb kLabelInk = {255, 214, 102};
constexpr Rgb kTitleInk = {235, 235, 235};
constexpr int kTextScale = 2;
constexpr int kPad = 6;  // between cells and around the grid
constexpr int kFrameWidth = 2;
constexpr int kMaxCount = 1024;

std::string LabelText(const ml::DatasetDescription& description, int label) {
  const std::string name = label >= 0 && label < static_cast<int>(description.class_names.size())
                               ? description.class_names[label]
                               : "?";
  return absl::StrCat(label, " ", name);
}

uint8_t ToByte(float unit) {
  return static_cast<uint8_t>(std::lround(std::clamp(unit, 0.0f, 1.0f) * 255.0f));
}

}  // namespace

absl::StatusOr<RgbImage> RenderSampleGrid(const ml::Examples& examples,
                                          const ml::DatasetDescription& description,
                                          const std::string& title, int columns, int zoom) {
  const ml::ImageShape& shape = description.shape;
  if (examples.x.rows() != shape.pixels()) {
    return absl::InvalidArgumentError(absl::StrCat("examples have ", examples.x.rows(),
                                                   " features, images of this shape have ",
                                                   shape.pixels()));
  }
  const int count = static_cast<int>(examples.size());
  if (count == 0) return absl::InvalidArgumentError("no examples to draw");
  if (columns <= 0) columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
  const int rows = (count + columns - 1) / columns;

  int label_width = 0;
  for (int label = 0; label < static_cast<int>(description.class_names.size()); ++label) {
    label_width = std::max(label_width, TextWidth(LabelText(description, label), kTextScale));
  }
  const int image_width = shape.cols * zoom + 2 * kFrameWidth;
  const int image_height = shape.rows * zoom + 2 * kFrameWidth;
  const int cell_width = std::max(image_width, label_width);
  const int text_height = kGlyphHeight * kTextScale;
  const int cell_height = image_height + kPad / 2 + text_height;
  const int title_height = text_height + kPad;
  const int width = kPad + columns * (cell_width + kPad);
  const int height = kPad + title_height + rows * (cell_height + kPad);

  RgbImage canvas(width, height, kCanvas);
  DrawText(canvas, kPad, kPad, title, kTextScale, kTitleInk);
  const int plane = shape.rows * shape.cols;
  for (int i = 0; i < count; ++i) {
    const int cell_x = kPad + (i % columns) * (cell_width + kPad);
    const int cell_y = kPad + title_height + (i / columns) * (cell_height + kPad);
    const int image_x = cell_x + (cell_width - image_width) / 2;
    canvas.FillRect(image_x, cell_y, image_width, image_height, kFrame);
    const float* pixels = examples.x.col(i).data();
    for (int r = 0; r < shape.rows; ++r) {
      for (int c = 0; c < shape.cols; ++c) {
        const int p = r * shape.cols + c;
        Rgb color;
        if (shape.channels == 3) {
          color = {ToByte(pixels[p]), ToByte(pixels[plane + p]), ToByte(pixels[2 * plane + p])};
        } else {
          const uint8_t grey = ToByte(pixels[p]);
          color = {grey, grey, grey};
        }
        canvas.FillRect(image_x + kFrameWidth + c * zoom, cell_y + kFrameWidth + r * zoom, zoom,
                        zoom, color);
      }
    }
    const std::string text = LabelText(description, examples.y[i]);
    DrawText(canvas, cell_x + (cell_width - TextWidth(text, kTextScale)) / 2,
             cell_y + image_height + kPad / 2, text, kTextScale, kLabelInk);
  }
  return canvas;
}

absl::Status WriteDataPreview(const DataPreviewOptions& options) {
  if (options.count < 1 || options.count > kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("--count must be in [1, ", kMaxCount, "], got ", options.count));
  }
  if (options.zoom < 1 || options.zoom > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("--zoom must be in [1, 16], got ", options.zoom));
  }
  if (options.out.empty()) return absl::InvalidArgumentError("--out needs a file name");

  ml::DatasetOptions dataset_options;
  dataset_options.name = options.dataset;
  dataset_options.path = options.path;
  ASSIGN_OR_RETURN(dataset_options.color, ml::ParseColorMode(options.color));
  // Only training examples are shown: skip building the held-out sets.
  dataset_options.validation_examples = 0;
  dataset_options.test_examples = 0;
  dataset_options.probe_examples = 0;
  dataset_options.preprocess = ml::Preprocess::kUnit;
  ASSIGN_OR_RETURN(const ml::DatasetDescription description, ml::DescribeDataset(dataset_options));
  ASSIGN_OR_RETURN(ml::Dataset dataset, ml::LoadDataset(dataset_options, options.seed));

  ml::Examples examples;
  examples.x.resize(dataset.input_dim, options.count);
  examples.y.resize(options.count);
  dataset.train->NextBatch(examples.x, examples.y.data());

  const std::string title = absl::StrCat(options.dataset, "  seed ", options.seed, "  first ",
                                         options.count, " training examples");
  ASSIGN_OR_RETURN(const RgbImage grid,
                   RenderSampleGrid(examples, description, title, options.columns, options.zoom));
  return WritePng(options.out, grid);
}

}  // namespace deepsweep::client
