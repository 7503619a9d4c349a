// Finite training sets: where examples come from (ExampleSource) and the
// TrainingStream that walks them in a fresh random order every epoch
// (EpochStream).
//
// EpochStream: before each epoch (the first included) it shuffles the example
// order with its Rng (Fisher-Yates), so the sequence of batches is a pure
// function of the seed; a batch that crosses an epoch boundary continues in the
// next epoch's order.
//
// Thread-safety: sources are immutable and may be shared; an EpochStream is
// used by one thread.
#ifndef DEEPSWEEP_ML_DATA_EPOCH_STREAM_H_
#define DEEPSWEEP_ML_DATA_EPOCH_STREAM_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ml/data/feature_transform.h"
#include "ml/data/image_set.h"
#include "ml/dataset.h"
#include "ml/random.h"

namespace deepsweep::ml {

// How a colour image becomes a feature vector.
enum class ColorMode {
  kGrey,  // luminance 0.299 R + 0.587 G + 0.114 B, one value per pixel
  kRgb,   // the three channel planes one after the other
};

// Input value of each byte value 0..255.
using PixelLevels = std::array<float, 256>;
// v / 255: pixels in [0, 1].
const PixelLevels& UnitPixelLevels();

// A finite, indexed set of labelled examples, before preprocessing.
class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  virtual int input_dim() const = 0;
  virtual int64_t size() const = 0;
  virtual int32_t label(int64_t i) const = 0;
  // Writes example i's input_dim() features to `column`.
  virtual void CopyFeatures(int64_t i, float* column) const = 0;
};

// Images [first, first + count) of one table of a shared RawImageSet, each
// byte v becoming levels[v] (default v / 255). Single-channel tables ignore
// `color`; grey from RGB is 0.299 levels[R] + 0.587 levels[G] + 0.114 levels[B]
// (with affine levels, the levels of the luminance).
class ImageSource final : public ExampleSource {
 public:
  ImageSource(std::shared_ptr<const RawImageSet> set, const ImageTable& table, int64_t first,
              int64_t count, ColorMode color, const PixelLevels& levels = UnitPixelLevels());
  int input_dim() const override { return input_dim_; }
  int64_t size() const override { return count_; }
  int32_t label(int64_t i) const override { return table_.labels[first_ + i]; }
  void CopyFeatures(int64_t i, float* column) const override;

 private:
  std::shared_ptr<const RawImageSet> set_;  // keeps table_ alive
  const ImageTable& table_;
  int64_t first_;
  int64_t count_;
  bool to_grey_;
  int input_dim_;
  const PixelLevels& levels_;
};

// The examples at `indices` of `source`, transformed.
Examples GatherExamples(const ExampleSource& source, std::span<const int64_t> indices,
                        const FeatureTransform& transform);

// Per-feature moments of every example of `source` (for standardization).
FeatureMoments MomentsOf(const ExampleSource& source);

class EpochStream final : public TrainingStream {
 public:
  // Precondition: source->size() > 0.
  EpochStream(std::unique_ptr<const ExampleSource> source, int num_classes, Rng rng,
              FeatureTransform transform);
  int input_dim() const override { return source_->input_dim(); }
  int num_classes() const override { return num_classes_; }
  void NextBatch(Eigen::Ref<ExampleMatrix> x, int32_t* y) override;
  // The Rng, the epoch count, the current epoch's order and the offset in it.
  void SaveState(ByteWriter& out) const override;
  void RestoreState(ByteReader& in) override;
  // Epochs started so far (1 after construction).
  int64_t epoch() const { return epoch_; }

 private:
  void StartEpoch();

  std::unique_ptr<const ExampleSource> source_;
  int num_classes_;
  Rng rng_;
  FeatureTransform transform_;
  std::vector<int64_t> order_;
  size_t position_ = 0;
  int64_t epoch_ = 0;
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_EPOCH_STREAM_H_
