// Bit-for-bit comparison of checkpoints: `deepsweep replay` checks a stored
// trial against a fresh run with it, and the determinism tests use it too.
//
// Every metric is compared by its bits (so NaN equals NaN, as train_nll at
// step 0 is, and 0.0 differs from -0.0), except wall_seconds, which is a
// clock reading. Histograms are compared bin by bin.
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_CORE_CHECKPOINT_COMPARE_H_
#define DEEPSWEEP_CORE_CHECKPOINT_COMPARE_H_

#include <string>
#include <vector>

#include "core/trial.h"

namespace deepsweep {

// Empty when equal; else the first difference, values in shortest
// round-trip form, e.g. "step 20: layer 2 activation p98: 0.731 vs 0.7310000000000001".
std::string CheckpointDifference(const Checkpoint& a, const Checkpoint& b);
std::string CheckpointsDifference(const std::vector<Checkpoint>& a,
                                  const std::vector<Checkpoint>& b);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_CHECKPOINT_COMPARE_H_
