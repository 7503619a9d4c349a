// TrialDiagnosis: what the paper warns about, read off one trial's stored
// statistics, as one line per trial for the dashboard.
//
// Findings, each with the first checkpoint step where it holds:
//   top layer saturated   the top hidden layer's activations reach saturation:
//                         their saturated_fraction is at least
//                         `saturated_fraction`, or, for the bounded sigmoid,
//                         tanh and softsign, they are pinned to one end of
//                         the range: 98% of them within `pinned_range` of it
//                         (p98 <= lo + r (hi - lo) or p02 >= hi - r (hi - lo),
//                         [lo, hi] the histogram range, the activation's own).
//                         Glorot & Bengio Fig. 2: sigmoid's top layer is driven
//                         to 0, where f' is small, long before units pass the
//                         2% bound that saturated_fraction counts. It has
//                         recovered at the first later checkpoint where the
//                         fraction is below `recovered_fraction` and the
//                         activations are not within `recovered_range` of an end.
//   gradients shrink      back-propagated gradients shrink layer by layer toward
//                         the input: std(backprop_grad) strictly decreases from
//                         layer L down to layer 1 and std(layer 1) / std(layer L)
//                         <= `shrink_ratio` (Fig. 7, standard initialization).
//   Jacobian far from 1   the mean over layers of the layer Jacobians' mean
//                         singular value is outside [1 / jacobian_factor,
//                         jacobian_factor] (Sec. 4.2.2: normalized init keeps it
//                         near 1, about 0.8; standard init about 0.5).
//   diverged              the trial ended DIVERGED (its reason is kept), or a
//                         checkpoint's test loss, or its training loss after
//                         step 0 (NaN there by definition), is not finite.
// Checkpoints without the needed statistics are skipped.
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_CORE_TRIAL_DIAGNOSIS_H_
#define DEEPSWEEP_CORE_TRIAL_DIAGNOSIS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "core/coordinator.h"
#include "core/trial.h"

namespace deepsweep {

struct DiagnosisOptions {
  // The top hidden layer counts as saturated from this activation
  // saturated_fraction on.
  double saturated_fraction = 0.5;
  // ... or, for bounded activations, when 98% of them lie within this
  // fraction of the range from one end.
  double pinned_range = 0.1;
  // It has recovered once the saturated fraction is below this and its
  // activations are not within `recovered_range` of an end.
  double recovered_fraction = 0.25;
  double recovered_range = 0.2;
  // Largest std(layer 1) / std(layer L) of back-propagated gradients that
  // counts as shrinking (with a strict decrease layer by layer).
  double shrink_ratio = 0.5;
  // Mean Jacobian singular values outside [1 / f, f] are far from 1.
  double jacobian_factor = 2.0;
};

struct DiagnosisFinding {
  enum class Kind { kTopLayerSaturated, kBackpropShrinking, kJacobianFarFromOne, kDiverged };
  Kind kind = Kind::kDiverged;
  // The first checkpoint step where it holds; empty for a divergence known
  // only from the trial's state.
  std::optional<int64_t> step;
  // kTopLayerSaturated: the step where the top layer had recovered, if it did.
  std::optional<int64_t> recovered_step;
  // e.g. "top hidden layer 5 saturated at step 500 (pushed to the low end of
  // [0, 1]: 98% of activations below 0.079), not recovered", or "(90% of units
  // within 2% of a bound)".
  std::string text;
};

// "top_layer_saturated", "backprop_shrinking", "jacobian_far_from_one", "diverged".
std::string_view DiagnosisKindName(DiagnosisFinding::Kind kind);

// The findings for `trial` from `checkpoints` (one attempt's, ordered by step,
// with layer statistics), in the order of the list above.
std::vector<DiagnosisFinding> DiagnoseTrial(const TrialRecord& trial,
                                            absl::Span<const Checkpoint> checkpoints,
                                            const DiagnosisOptions& options = {});

// The findings' texts joined by "; ", or "no warning signs" when there are none.
std::string DiagnosisLine(absl::Span<const DiagnosisFinding> findings);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_TRIAL_DIAGNOSIS_H_
