#include "tests/client/sample_checkpoints.h"

#include <algorithm>
#include <cmath>

namespace deepsweep::client::testing {
namespace {

std::vector<float> Triangle(double centre, double half_width, int bins) {
  std::vector<float> counts(static_cast<size_t>(bins));
  double total = 0;
  for (int b = 0; b < bins; ++b) {
    const double x = -1 + (b + 0.5) * 2.0 / bins;
    const double height = std::max(0.0, 1 - std::fabs(x - centre) / half_width);
    counts[static_cast<size_t>(b)] = static_cast<float>(height);
    total += height;
  }
  for (float& c : counts) c = static_cast<float>(c / total);
  return counts;
}

}  // namespace

std::vector<Checkpoint> MakeCheckpoints(const SampleCurve& curve) {
  std::vector<Checkpoint> checkpoints;
  const double last = std::max(1, curve.checkpoints - 1);
  for (int i = 0; i < curve.checkpoints; ++i) {
    Checkpoint c;
    c.step = i * curve.every;
    c.examples_seen = c.step * curve.batch_size;
    c.test_error = curve.final_test_error + (0.9 - curve.final_test_error) * (last - i) / last;
    c.test_nll = 2 * c.test_error;
    c.train_nll = 2 * c.test_error - 0.05;
    c.validation_error = c.test_error + 0.01;
    c.validation_nll = c.test_nll + 0.02;
    c.wall_seconds = 1.5 * i;
    if (curve.layer_stats) {
      for (int l = 1; l <= curve.depth; ++l) {
        LayerStat a;
        a.layer = l;
        a.quantity = LayerQuantity::kActivation;
        a.mean = 0.1 * l * i / last;
        a.std = 0.1 + 0.05 * l;
        a.p02 = a.mean - 2 * a.std;
        a.p50 = a.mean;
        a.p98 = a.mean + 2 * a.std;
        a.saturated_fraction = 0.01 * l;
        a.jacobian_sv_mean = 1 - 0.1 * l;
        a.hist_lo = -1;
        a.hist_hi = 1;
        a.histogram = Triangle(a.mean, 2 * a.std, curve.histogram_bins);
        c.layer_stats.push_back(a);
        for (auto [quantity, scale] : {std::pair{LayerQuantity::kBackpropGrad, 0.001},
                                       std::pair{LayerQuantity::kWeightGrad, 0.002}}) {
          LayerStat g;
          g.layer = l;
          g.quantity = quantity;
          g.std = scale * l;
          g.p02 = -2 * g.std;
          g.p98 = 2 * g.std;
          g.hist_lo = -4 * g.std;
          g.hist_hi = 4 * g.std;
          g.histogram = Triangle(0, 0.5, curve.histogram_bins);
          c.layer_stats.push_back(g);
        }
      }
    }
    checkpoints.push_back(std::move(c));
  }
  return checkpoints;
}

}  // namespace deepsweep::client::testing
