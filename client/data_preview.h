// Data preview: a picture of a dataset's training examples with their labels,
// so a person can check images and labels by eye.
//
// The grid shows `count` examples as the trainer would receive them first for
// the given seed, each scaled up (nearest neighbour) in a framed cell with
// "<class id> <class name>" drawn under it in a small bitmap font; a title
// line names the dataset and seed. Grey datasets are drawn grey, CIFAR-10 RGB
// in colour.
//
// Errors: InvalidArgument for a bad option, the dataset loaders' errors, or
// Unavailable when the PNG cannot be written.
// Thread-safety: stateless functions.
#ifndef DEEPSWEEP_CLIENT_DATA_PREVIEW_H_
#define DEEPSWEEP_CLIENT_DATA_PREVIEW_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/rgb_image.h"
#include "ml/data/dataset_factory.h"
#include "ml/dataset.h"

namespace deepsweep::client {

struct DataPreviewOptions {
  // Dataset name as in ml::DatasetOptions: shapeset, fashion-mnist, mnist, cifar10.
  std::string dataset = "shapeset";
  // Directory of the dataset's files; empty = its default location.
  std::string path;
  // CIFAR-10 only: "grey" or "rgb".
  std::string color = "grey";
  // Seed of the Dataset whose first training examples are shown.
  uint64_t seed = 1;
  // Examples shown, 1..1024.
  int count = 64;
  // Columns of the grid; 0 = about square.
  int columns = 0;
  // Magnification of each example (pixels per data pixel), 1..16.
  int zoom = 3;
  // Where the PNG goes.
  std::string out;
};

// Lays out `examples` (values in [0, 1], one example per column, shaped as
// `description.shape`) as a labelled grid under `title`.
absl::StatusOr<RgbImage> RenderSampleGrid(const ml::Examples& examples,
                                          const ml::DatasetDescription& description,
                                          const std::string& title, int columns, int zoom);

// Loads the dataset, draws the grid and writes it to options.out.
absl::Status WriteDataPreview(const DataPreviewOptions& options);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_DATA_PREVIEW_H_
