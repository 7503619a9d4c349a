#include "ml/layer_probe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "Eigen/SVD"
#include "ml/activation.h"

namespace deepsweep::ml {
namespace {

// Linear interpolation between order statistics: position q (n - 1).
// Reorders `v` (nth_element), so callers ask for increasing q.
double Quantile(std::vector<float>& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double below = v[lo];
  const double frac = pos - static_cast<double>(lo);
  if (frac == 0.0 || lo + 1 >= v.size()) return below;
  // After nth_element everything past lo is >= v[lo]; its minimum is order
  // statistic lo + 1.
  const double above = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return below + frac * (above - below);
}

}  // namespace

QuantityStats Summarize(std::vector<float>& values, int bins, const double* range_lo,
                        const double* range_hi) {
  QuantityStats out;
  out.histogram.assign(static_cast<size_t>(bins), 0.0f);
  if (values.empty()) return out;
  const double n = static_cast<double>(values.size());
  double sum = 0;
  for (float v : values) sum += v;
  out.mean = sum / n;
  double sq = 0;
  for (float v : values) sq += (v - out.mean) * (v - out.mean);
  out.std = std::sqrt(sq / n);

  // Quantiles in increasing order so each nth_element narrows the next.
  const double q001 = Quantile(values, 0.001);
  out.p02 = Quantile(values, 0.02);
  out.p50 = Quantile(values, 0.50);
  out.p98 = Quantile(values, 0.98);
  const double q999 = Quantile(values, 0.999);
  out.hist_lo = range_lo != nullptr ? *range_lo : q001;
  out.hist_hi = range_hi != nullptr ? *range_hi : q999;
  if (!(out.hist_hi > out.hist_lo)) {
    const double pad = std::max(1e-12, std::abs(out.hist_lo) * 1e-6);
    out.hist_lo -= pad;
    out.hist_hi += pad;
  }
  // bin = floor((v - lo) / (hi - lo) * bins), clamped to the end bins.
  const double scale = bins / (out.hist_hi - out.hist_lo);
  std::vector<int64_t> counts(static_cast<size_t>(bins), 0);
  for (float v : values) {
    const double b = std::floor((v - out.hist_lo) * scale);
    const int bin = b < 0 ? 0 : (b >= bins ? bins - 1 : static_cast<int>(b));
    ++counts[static_cast<size_t>(bin)];
  }
  for (int b = 0; b < bins; ++b) out.histogram[b] = static_cast<float>(counts[b] / n);
  return out;
}

LayerProbe::LayerProbe(ProbeOptions options, Examples probe, Loss loss)
    : options_(options), probe_(std::move(probe)), loss_(loss) {}

double LayerProbe::JacobianSvMean(const Mlp<float>& net, int l) {
  const int examples = std::min<int>(options_.jacobian_examples, static_cast<int>(probe_.size()));
  if (examples <= 0) return std::numeric_limits<double>::quiet_NaN();
  const Activation f = net.shape().activation;
  const auto& w = net.weights(l);
  Eigen::MatrixXf slope(w.rows(), 1);
  double total = 0;
  for (int e = 0; e < examples; ++e) {
    // J = diag(f'(s)) W for example e: f'(s) is the derivative applied to ones.
    slope.setOnes();
    MultiplyByDerivative<float>(f, pass_.s[l].col(e), pass_.a[l].col(e), slope);
    // A unit with f'(s) == 0 (saturated to the last bit) gives a zero row of
    // J and a zero singular value, so the SVD runs on the other rows only and
    // the sum is divided by min(n_l, n_(l-1)) as before. Eigen 3.4.0's BDCSVD
    // crashes (out-of-bounds write in computeSVDofM) on some float matrices
    // with many zero rows: a 200 x 1024 tanh layer at lr 0.3 with 165 of them
    // killed every worker that leased the trial. J without zero rows is
    // decomposed exactly as before (the same bits).
    const Eigen::Index n = std::min(w.rows(), w.cols());
    Eigen::Index kept = 0;
    for (Eigen::Index r = 0; r < w.rows(); ++r) kept += slope(r, 0) != 0.0f ? 1 : 0;
    if (kept == w.rows()) {
      jacobian_.noalias() = slope.col(0).asDiagonal() * w;
      Eigen::BDCSVD<Eigen::MatrixXf> svd(jacobian_);
      total += svd.singularValues().cast<double>().mean();
      continue;
    }
    jacobian_.resize(kept, w.cols());
    for (Eigen::Index r = 0, k = 0; r < w.rows(); ++r) {
      if (slope(r, 0) != 0.0f) jacobian_.row(k++) = slope(r, 0) * w.row(r);
    }
    if (kept > 0) {
      Eigen::BDCSVD<Eigen::MatrixXf> svd(jacobian_);
      total += svd.singularValues().cast<double>().sum() / static_cast<double>(n);
    }
  }
  return total / examples;
}

std::vector<LayerStats> LayerProbe::Measure(const Mlp<float>& net) {
  std::vector<LayerStats> out;
  const int hidden = net.num_layers() - 1;
  if (hidden == 0 || probe_.size() == 0) return out;
  Forward(net, probe_.x, pass_);
  // Backward gives dC/ds for the mean cost C = (1/n) sum_x C_x; n dC/ds is the
  // per-example gradient dC_x/ds (column x).
  Backward(net, loss_, probe_.y.data(), pass_);
  ComputeGradients(net, probe_.x, pass_, grads_);
  const double n = static_cast<double>(probe_.size());
  const Activation f = net.shape().activation;
  const auto bounded = BoundedRange(f);
  const int bins = options_.histogram_bins;

  for (int l = 0; l < hidden; ++l) {
    LayerStats stats;
    stats.layer = l + 1;
    const auto& s = pass_.s[l];
    const auto& a = pass_.a[l];

    scratch_.assign(a.data(), a.data() + a.size());
    int64_t saturated = 0;
    for (Eigen::Index i = 0; i < a.size(); ++i)
      saturated += IsSaturated(f, s.data()[i], a.data()[i]);
    stats.activation = bounded ? Summarize(scratch_, bins, &bounded->first, &bounded->second)
                               : Summarize(scratch_, bins);
    stats.activation.saturated_fraction =
        static_cast<double>(saturated) / static_cast<double>(a.size());
    stats.activation.jacobian_sv_mean = JacobianSvMean(net, l);

    const auto& delta = pass_.delta[l];
    scratch_.resize(static_cast<size_t>(delta.size()));
    for (Eigen::Index i = 0; i < delta.size(); ++i) {
      scratch_[static_cast<size_t>(i)] = static_cast<float>(n * delta.data()[i]);
    }
    stats.backprop_grad = Summarize(scratch_, bins);

    const auto& dw = grads_.weights[l];
    scratch_.assign(dw.data(), dw.data() + dw.size());
    stats.weight_grad = Summarize(scratch_, bins);
    out.push_back(std::move(stats));
  }
  return out;
}

}  // namespace deepsweep::ml
