// Input preprocessing as a per-feature affine map, x'_f = scale_f * x_f +
// offset_f, applied column by column to examples. Also the moments that
// per-feature standardization is fitted on, and a TrainingStream decorator
// that applies a transform to every batch of another stream.
//
// Standardization: z_f = (x_f - mean_f) / std_f with mean and standard
// deviation accumulated over the training split only. A feature whose training
// standard deviation is below 1e-6 (constant, e.g. MNIST's border pixels) is
// only centred (scale 1), so unseen values stay bounded.
//
// Thread-safety: FeatureTransform is immutable after construction and may be
// shared; FeatureMoments and TransformingStream are used by one thread.
#ifndef DEEPSWEEP_ML_DATA_FEATURE_TRANSFORM_H_
#define DEEPSWEEP_ML_DATA_FEATURE_TRANSFORM_H_

#include <cstdint>
#include <memory>

#include "Eigen/Core"
#include "ml/dataset.h"

namespace deepsweep::ml {

class FeatureTransform {
 public:
  // x' = x.
  FeatureTransform() = default;
  // x'_f = scale * x_f + offset for every one of `dim` features.
  static FeatureTransform Uniform(int dim, float scale, float offset);
  // x'_f = scale_f * x_f + offset_f.
  FeatureTransform(Eigen::ArrayXf scale, Eigen::ArrayXf offset);

  bool is_identity() const { return scale_.size() == 0; }
  const Eigen::ArrayXf& scale() const { return scale_; }
  const Eigen::ArrayXf& offset() const { return offset_; }

  // Transforms every column of `x` in place; x.rows() must equal the
  // transform's dimension unless it is the identity.
  void Apply(Eigen::Ref<ExampleMatrix> x) const;

 private:
  Eigen::ArrayXf scale_;  // empty = identity
  Eigen::ArrayXf offset_;
};

// Running per-feature sums over examples, in double precision.
class FeatureMoments {
 public:
  explicit FeatureMoments(int dim);
  // Adds every column of `x` (dim rows).
  void Add(const Eigen::Ref<const ExampleMatrix>& x);
  int64_t count() const { return count_; }
  // z = (x - mean) / std, fitted on the examples added so far (at least one).
  FeatureTransform Standardizing() const;

 private:
  Eigen::ArrayXd sum_;
  Eigen::ArrayXd sum_squares_;
  int64_t count_ = 0;
};

// Applies `transform` to every batch that `inner` produces.
class TransformingStream final : public TrainingStream {
 public:
  TransformingStream(std::unique_ptr<TrainingStream> inner, FeatureTransform transform)
      : inner_(std::move(inner)), transform_(std::move(transform)) {}
  int input_dim() const override { return inner_->input_dim(); }
  int num_classes() const override { return inner_->num_classes(); }
  void NextBatch(Eigen::Ref<ExampleMatrix> x, int32_t* y) override {
    inner_->NextBatch(x, y);
    transform_.Apply(x);
  }
  // The transform is fixed at construction; only the inner stream moves.
  void SaveState(ByteWriter& out) const override { inner_->SaveState(out); }
  void RestoreState(ByteReader& in) override { inner_->RestoreState(in); }

 private:
  std::unique_ptr<TrainingStream> inner_;
  FeatureTransform transform_;
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_FEATURE_TRANSFORM_H_
