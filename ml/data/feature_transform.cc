#include "ml/data/feature_transform.h"

#include <cmath>
#include <utility>

namespace deepsweep::ml {
namespace {

constexpr double kMinStandardDeviation = 1e-6;

}  // namespace

FeatureTransform::FeatureTransform(Eigen::ArrayXf scale, Eigen::ArrayXf offset)
    : scale_(std::move(scale)), offset_(std::move(offset)) {}

FeatureTransform FeatureTransform::Uniform(int dim, float scale, float offset) {
  return FeatureTransform(Eigen::ArrayXf::Constant(dim, scale),
                          Eigen::ArrayXf::Constant(dim, offset));
}

void FeatureTransform::Apply(Eigen::Ref<ExampleMatrix> x) const {
  if (is_identity()) return;
  // x_f <- scale_f * x_f + offset_f, one column at a time (no temporaries).
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    x.col(j).array() = x.col(j).array() * scale_ + offset_;
  }
}

FeatureMoments::FeatureMoments(int dim)
    : sum_(Eigen::ArrayXd::Zero(dim)), sum_squares_(Eigen::ArrayXd::Zero(dim)) {}

void FeatureMoments::Add(const Eigen::Ref<const ExampleMatrix>& x) {
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const auto column = x.col(j).array().cast<double>();
    sum_ += column;
    sum_squares_ += column.square();
  }
  count_ += x.cols();
}

FeatureTransform FeatureMoments::Standardizing() const {
  // mean = S1 / n, var = S2 / n - mean^2 (population variance, clamped at 0
  // against rounding); z = (x - mean) / std = x / std - mean / std.
  const double n = static_cast<double>(count_);
  const Eigen::ArrayXd mean = sum_ / n;
  const Eigen::ArrayXd variance = (sum_squares_ / n - mean.square()).max(0.0);
  Eigen::ArrayXf scale(mean.size());
  Eigen::ArrayXf offset(mean.size());
  for (Eigen::Index f = 0; f < mean.size(); ++f) {
    const double std_dev = std::sqrt(variance[f]);
    const double inverse = std_dev < kMinStandardDeviation ? 1.0 : 1.0 / std_dev;
    scale[f] = static_cast<float>(inverse);
    offset[f] = static_cast<float>(-mean[f] * inverse);
  }
  return FeatureTransform(std::move(scale), std::move(offset));
}

}  // namespace deepsweep::ml
