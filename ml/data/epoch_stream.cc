#include "ml/data/epoch_stream.h"

#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"

namespace deepsweep::ml {

const PixelLevels& UnitPixelLevels() {
  static const PixelLevels kLevels = [] {
    PixelLevels levels;
    for (int v = 0; v < 256; ++v) levels[v] = static_cast<float>(v) / 255.0f;
    return levels;
  }();
  return kLevels;
}

ImageSource::ImageSource(std::shared_ptr<const RawImageSet> set, const ImageTable& table,
                         int64_t first, int64_t count, ColorMode color, const PixelLevels& levels)
    : set_(std::move(set)),
      table_(table),
      first_(first),
      count_(count),
      to_grey_(table.shape.channels == 3 && color == ColorMode::kGrey),
      input_dim_(static_cast<int>(to_grey_ ? table.shape.pixels() / 3 : table.shape.pixels())),
      levels_(levels) {}

void ImageSource::CopyFeatures(int64_t i, float* column) const {
  const uint8_t* image = table_.image(first_ + i);
  if (to_grey_) {
    // Luminance (ITU-R BT.601): y = 0.299 R + 0.587 G + 0.114 B.
    const int plane = input_dim_;
    const uint8_t* red = image;
    const uint8_t* green = image + plane;
    const uint8_t* blue = image + 2 * plane;
    for (int p = 0; p < plane; ++p) {
      column[p] = 0.299f * levels_[red[p]] + 0.587f * levels_[green[p]] + 0.114f * levels_[blue[p]];
    }
    return;
  }
  for (int p = 0; p < input_dim_; ++p) column[p] = levels_[image[p]];
}

Examples GatherExamples(const ExampleSource& source, std::span<const int64_t> indices,
                        const FeatureTransform& transform) {
  Examples examples;
  const auto count = static_cast<Eigen::Index>(indices.size());
  examples.x.resize(source.input_dim(), count);
  examples.y.resize(indices.size());
  for (Eigen::Index j = 0; j < count; ++j) {
    source.CopyFeatures(indices[j], examples.x.col(j).data());
    examples.y[j] = source.label(indices[j]);
  }
  transform.Apply(examples.x);
  return examples;
}

FeatureMoments MomentsOf(const ExampleSource& source) {
  FeatureMoments moments(source.input_dim());
  constexpr int64_t kBlock = 256;
  ExampleMatrix block(source.input_dim(), kBlock);
  for (int64_t first = 0; first < source.size(); first += kBlock) {
    const int64_t n = std::min(kBlock, source.size() - first);
    for (int64_t j = 0; j < n; ++j) source.CopyFeatures(first + j, block.col(j).data());
    moments.Add(block.leftCols(n));
  }
  return moments;
}

EpochStream::EpochStream(std::unique_ptr<const ExampleSource> source, int num_classes, Rng rng,
                         FeatureTransform transform)
    : source_(std::move(source)),
      num_classes_(num_classes),
      rng_(rng),
      transform_(std::move(transform)),
      order_(static_cast<size_t>(source_->size())) {
  std::iota(order_.begin(), order_.end(), int64_t{0});
  StartEpoch();
}

void EpochStream::StartEpoch() {
  rng_.Shuffle(order_.begin(), order_.end());
  position_ = 0;
  ++epoch_;
}

void EpochStream::SaveState(ByteWriter& out) const {
  rng_.Save(out);
  out.I64(epoch_);
  out.U64(position_);
  out.I64Array(order_);
}

void EpochStream::RestoreState(ByteReader& in) {
  Rng rng = rng_;
  rng.Restore(in);
  const int64_t epoch = in.I64();
  const uint64_t position = in.U64();
  std::vector<int64_t> order;
  in.I64Array(order);
  if (!in.ok()) return;
  if (order.size() != order_.size()) {
    in.Fail(absl::StrCat("epoch order has ", order.size(), " examples; this stream has ",
                         order_.size()));
    return;
  }
  // The order must be a permutation of 0 .. n-1 (damage would read out of bounds).
  std::vector<bool> seen(order.size(), false);
  for (int64_t index : order) {
    if (index < 0 || static_cast<uint64_t>(index) >= order.size() ||
        seen[static_cast<size_t>(index)]) {
      in.Fail("epoch order is not a permutation");
      return;
    }
    seen[static_cast<size_t>(index)] = true;
  }
  if (position > order.size() || epoch < 1) {
    in.Fail(absl::StrCat("epoch ", epoch, " position ", position, " is out of range"));
    return;
  }
  rng_ = rng;
  epoch_ = epoch;
  position_ = static_cast<size_t>(position);
  order_ = std::move(order);
}

void EpochStream::NextBatch(Eigen::Ref<ExampleMatrix> x, int32_t* y) {
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    if (position_ == order_.size()) StartEpoch();
    const int64_t index = order_[position_++];
    source_->CopyFeatures(index, x.col(j).data());
    y[j] = source_->label(index);
  }
  transform_.Apply(x);
}

}  // namespace deepsweep::ml
