// RawImageSet: a labelled image dataset as read from its files (8-bit pixels),
// before any split or preprocessing. Loaded once per process and shared by the
// Datasets built from it for each trial seed (see dataset_factory.h).
//
// Pixel layout of one image: channel planes, each plane row-major
// (index = (channel * rows + row) * cols + col), as in the CIFAR-10 and IDX
// files.
//
// Thread-safety: immutable after loading; share it through
// std::shared_ptr<const RawImageSet>.
#ifndef DEEPSWEEP_ML_DATA_IMAGE_SET_H_
#define DEEPSWEEP_ML_DATA_IMAGE_SET_H_

#include <cstdint>
#include <string>
#include <vector>

namespace deepsweep::ml {

struct ImageShape {
  int rows = 0;
  int cols = 0;
  int channels = 1;  // 1 (grey) or 3 (RGB planes)
  int64_t pixels() const { return int64_t{rows} * cols * channels; }
};

// The images and labels of one or several files.
struct ImageTable {
  ImageShape shape;
  std::vector<uint8_t> pixels;  // count() * shape.pixels() bytes
  std::vector<int32_t> labels;  // one class id per image
  int64_t count() const { return static_cast<int64_t>(labels.size()); }
  const uint8_t* image(int64_t i) const { return pixels.data() + i * shape.pixels(); }
};

struct RawImageSet {
  std::string name;                      // "fashion-mnist", "mnist", "cifar10"
  std::vector<std::string> class_names;  // indexed by label
  ImageTable train;                      // training file(s): train + validation splits
  ImageTable test;                       // test file(s)
  int num_classes() const { return static_cast<int>(class_names.size()); }
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_IMAGE_SET_H_
