// Bit-for-bit comparison of checkpoints, for determinism tests (a worker's
// stored metrics against an in-process run of the same trial).
//
// Every metric is compared by its bits (so NaN equals NaN, as in train_nll at
// step 0), except wall_seconds, which is a clock reading.
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_TESTS_TESTING_CHECKPOINT_COMPARE_H_
#define DEEPSWEEP_TESTS_TESTING_CHECKPOINT_COMPARE_H_

#include <string>
#include <vector>

#include "core/trial.h"

namespace deepsweep::testing {

// Empty when equal; else the first difference, e.g.
// "step 20: layer 2 activation p98: 0.731 vs 0.732".
std::string CheckpointDifference(const Checkpoint& a, const Checkpoint& b);
std::string CheckpointsDifference(const std::vector<Checkpoint>& a,
                                  const std::vector<Checkpoint>& b);

}  // namespace deepsweep::testing

#endif  // DEEPSWEEP_TESTS_TESTING_CHECKPOINT_COMPARE_H_
