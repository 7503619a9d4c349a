// Trial: the domain vocabulary shared by the coordinator, the store, the RPC
// layer, the worker and the CLI. Plain value types; no behaviour beyond names.
//
// A sweep expands into trials. Each trial is one fully specified training run
// (TrialSpec) plus its lifecycle state. While it trains, a worker reports
// Checkpoints, each with one LayerStat per (hidden layer, quantity).
//
// Thread-safety: value types; no shared state.
#ifndef DEEPSWEEP_CORE_TRIAL_H_
#define DEEPSWEEP_CORE_TRIAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deepsweep {

using SweepId = int64_t;
using TrialId = int64_t;

// PENDING -> LEASED -> {SUCCEEDED, DIVERGED, FAILED, CANCELLED, PRUNED};
// LEASED -> PENDING on lease expiry or release (attempt + 1). PRUNED: the
// sweep's schedule stopped it early (core/scheduler.h); its checkpoints stay.
enum class TrialState { kPending, kLeased, kSucceeded, kDiverged, kFailed, kCancelled, kPruned };

// "pending", "leased", "succeeded", "diverged", "failed", "cancelled", "pruned".
std::string_view TrialStateName(TrialState state);
std::optional<TrialState> ParseTrialState(std::string_view name);
// True for SUCCEEDED, DIVERGED, FAILED, CANCELLED and PRUNED.
bool IsTerminal(TrialState state);

// Which data a trial trains and evaluates on.
struct DatasetSpec {
  // "shapeset", "fashion-mnist", "mnist" or "cifar10".
  std::string name = "shapeset";
  // Directory holding the files; empty = the dataset's default location.
  std::string path;
  // Training examples (for Shapeset: the size of a fixed training set, or 0 for
  // the paper's online stream where every update sees fresh images).
  int64_t train_examples = 0;
  int64_t validation_examples = 10000;
  int64_t test_examples = 10000;
  // Input preprocessing: "pm1" (scale to [-1, 1]), "unit" (to [0, 1]) or
  // "standardize" (per-feature z-score from the training split).
  std::string preprocess = "pm1";

  friend bool operator==(const DatasetSpec&, const DatasetSpec&) = default;
};

// Every knob of one training run. A sweep spec supplies the defaults; its grid
// and random axes override single fields per trial.
struct TrialSpec {
  DatasetSpec dataset;
  // Model.
  std::string activation = "tanh";  // sigmoid, tanh, softsign, relu, leaky_relu, elu,
                                    // selu, gelu, identity
  std::string init = "normalized";  // standard, normalized, glorot_normal, lecun_uniform,
                                    // lecun_normal, he_uniform, he_normal, orthogonal
  double init_gain = 1.0;           // orthogonal only
  int depth = 5;                    // hidden layers
  int width = 1000;                 // units per hidden layer
  std::string loss = "nll";         // "nll" (softmax) or "quadratic"
  // Training.
  double learning_rate = 0.01;
  double momentum = 0.0;
  double lr_decay = 0.0;  // rate_t = rate / (1 + lr_decay * t)
  int batch_size = 10;
  int64_t updates = 20000;
  int64_t checkpoint_every = 2000;
  int probe_examples = 300;
  // Layer statistics (ml::LayerProbe): bins of every histogram, and probe
  // examples whose layer Jacobian gets an exact SVD (capped at probe_examples
  // when run). They change the stored statistics, so the trial carries them
  // and a replay reads them from it.
  int histogram_bins = 50;
  int jacobian_examples = 2;
  // Optional "stuck at chance" rule: a trial whose error is still >=
  // stuck_error at a checkpoint at or past stuck_after_updates ends as
  // DIVERGED. 0 = off: the paper's deep sigmoid nets sit at chance for a long
  // time and then recover, which is a result, not a divergence.
  int64_t stuck_after_updates = 0;
  double stuck_error = 1.0;
  // Snapshots of the whole training state (ml/trainer.h), from which an
  // interrupted trial resumes exactly: after every snapshot_every updates
  // (0 = not by updates) and whenever snapshot_seconds of training passed
  // since the last one (0 = not by time), whichever comes first; also when a
  // worker stops on SIGTERM. keep_weights: "final" keeps the trained net after
  // the trial ends (`deepsweep weights`), "none" keeps nothing. They never
  // change the trajectory, so they are not part of the configuration (no seed
  // or duplicate check depends on them).
  int64_t snapshot_every = 0;
  double snapshot_seconds = 300;
  std::string keep_weights = "final";
  // The trial's seed: the weights derive from it.
  uint64_t seed = 0;
  // The seed of the trial's data: training order, Shapeset scenes,
  // validation, test and probe sets. A sweep derives it from its spec seed,
  // the dataset and seed_index only, so every configuration of one repeat
  // sees the same data (common random numbers: paired comparisons across
  // configurations). Trials stored before it existed have data_seed = seed.
  uint64_t data_seed = 0;
  // Which repeat of its configuration this trial is (0 .. seeds-1).
  int seed_index = 0;

  friend bool operator==(const TrialSpec&, const TrialSpec&) = default;
};

// Which tensor a LayerStat summarizes.
enum class LayerQuantity { kActivation, kBackpropGrad, kWeightGrad };
std::string_view LayerQuantityName(LayerQuantity q);  // activation, backprop_grad, weight_grad
std::optional<LayerQuantity> ParseLayerQuantity(std::string_view name);

// Statistics of one quantity of one hidden layer over the probe set.
struct LayerStat {
  int layer = 0;  // 1-based hidden layer index
  LayerQuantity quantity = LayerQuantity::kActivation;
  double mean = 0;
  double std = 0;
  double p02 = 0;
  double p50 = 0;
  double p98 = 0;
  // Activation only: fraction of units*examples in saturation (see ml/ docs).
  double saturated_fraction = 0;
  // Activation only: mean singular value of the layer Jacobian diag(f'(s)) W.
  double jacobian_sv_mean = 0;
  // Fixed-bin histogram over [hist_lo, hist_hi]; counts normalized to sum 1.
  double hist_lo = 0;
  double hist_hi = 0;
  std::vector<float> histogram;
};

// One evaluation point of a trial.
struct Checkpoint {
  int64_t step = 0;           // updates done
  int64_t examples_seen = 0;  // step * batch_size
  double train_nll = 0;       // mean training loss since the previous checkpoint
  double test_error = 0;      // fraction in [0, 1]
  double test_nll = 0;
  double validation_error = 0;
  double validation_nll = 0;
  double wall_seconds = 0;  // training time so far on the worker
  std::vector<LayerStat> layer_stats;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_TRIAL_H_
