// The bit-for-bit checkpoint comparison lives in core/checkpoint_compare.h
// (deepsweep replay uses it); the determinism tests name it from here.
#ifndef DEEPSWEEP_TESTS_TESTING_CHECKPOINT_COMPARE_H_
#define DEEPSWEEP_TESTS_TESTING_CHECKPOINT_COMPARE_H_

#include "core/checkpoint_compare.h"

namespace deepsweep::testing {

using ::deepsweep::CheckpointDifference;
using ::deepsweep::CheckpointsDifference;

}  // namespace deepsweep::testing

#endif  // DEEPSWEEP_TESTS_TESTING_CHECKPOINT_COMPARE_H_
