// LayerProbe: the paper's layer-wise statistics on a fixed probe set.
//
// For every hidden layer l = 1 .. depth of the net (1-based, as in the paper),
// over the probe examples (the paper uses 300 held-out examples):
//   activation     a = f(s): mean, std, p02, p50, p98, histogram, the saturated
//                  fraction of units x examples (definition per activation in
//                  ml/activation.h; the dead fraction for relu), and the mean
//                  singular value of the layer Jacobian J = diag(f'(s)) W
//                  (dz_{l+1}/dz_l in the paper's notation; W maps layer l-1, or
//                  the input, to layer l);
//   backprop_grad  dC_x/ds for each probe example x (the per-example cost, so
//                  its scale does not depend on the probe size): mean, std,
//                  percentiles, histogram;
//   weight_grad    dC/dW with C the mean cost over the probe set (what one SGD
//                  step on that set would follow): std (and the other moments),
//                  histogram.
// The cost is the training loss (nll or quadratic).
//
// Histograms have `histogram_bins` equal bins over [hist_lo, hist_hi] with counts
// divided by the number of values (they sum to 1). The range is the
// activation's own for bounded activations (sigmoid [0,1], tanh and softsign
// [-1,1]); otherwise the 0.1% and 99.9% quantiles of the values, with values
// outside counted in the end bins.
// Percentiles interpolate linearly between order statistics.
//
// Jacobian cost: one exact singular value decomposition (Eigen's BDCSVD,
// values only) of an n_l x n_(l-1) matrix per hidden layer and per subsampled
// example: about 0.2-0.25 s of CPU for 1000 x 1000 on one core, measured on a
// loaded machine (docs/PERFORMANCE.md); `jacobian_examples` bounds it (each
// example's figure is already an average over all the layer's singular values).
// 0 turns it off (reported as NaN).
//
// Thread-safety: a LayerProbe owns scratch buffers; use one per thread.
#ifndef DEEPSWEEP_ML_LAYER_PROBE_H_
#define DEEPSWEEP_ML_LAYER_PROBE_H_

#include <cstdint>
#include <vector>

#include "Eigen/Core"
#include "ml/dataset.h"
#include "ml/loss.h"
#include "ml/mlp.h"

namespace deepsweep::ml {

// Summary of one quantity of one hidden layer.
struct QuantityStats {
  double mean = 0;
  double std = 0;
  double p02 = 0;
  double p50 = 0;
  double p98 = 0;
  double saturated_fraction = 0;  // activation only (0 for the gradients)
  double jacobian_sv_mean = 0;    // activation only (0 for the gradients; NaN if off)
  double hist_lo = 0;
  double hist_hi = 0;
  std::vector<float> histogram;  // histogram_bins values summing to 1
};

struct LayerStats {
  int layer = 0;  // 1-based hidden layer index
  QuantityStats activation;
  QuantityStats backprop_grad;
  QuantityStats weight_grad;
};

struct ProbeOptions {
  // Equal-width bins per histogram.
  int histogram_bins = 50;
  // Probe examples whose Jacobian gets an exact SVD (the first ones of the
  // probe set); 0 disables the Jacobian statistic.
  int jacobian_examples = 2;
};

// Summary of `values` (reordered in place). `range`, when given, fixes the
// histogram range; otherwise the 0.1% and 99.9% quantiles set it.
QuantityStats Summarize(std::vector<float>& values, int bins, const double* range_lo = nullptr,
                        const double* range_hi = nullptr);

class LayerProbe {
 public:
  // Probes on the examples of `probe` (all of its columns) with the given cost.
  LayerProbe(ProbeOptions options, Examples probe, Loss loss);

  // One LayerStats per hidden layer of `net` (empty for a net without hidden
  // layers). Does not change the net.
  std::vector<LayerStats> Measure(const Mlp<float>& net);

  int64_t size() const { return probe_.size(); }

 private:
  double JacobianSvMean(const Mlp<float>& net, int l);

  ProbeOptions options_;
  Examples probe_;
  Loss loss_;
  Pass<float> pass_;
  Gradients<float> grads_;
  std::vector<float> scratch_;
  Eigen::MatrixXf jacobian_;
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_LAYER_PROBE_H_
