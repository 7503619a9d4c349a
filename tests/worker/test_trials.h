// Small, fast trial specs for the worker tests.
#ifndef DEEPSWEEP_TESTS_WORKER_TEST_TRIALS_H_
#define DEEPSWEEP_TESTS_WORKER_TEST_TRIALS_H_

#include <cstdint>

#include "core/trial.h"

namespace deepsweep::worker {

// Shapeset, one hidden layer of 8 units, checkpoints every 10 of `updates`
// updates; a few milliseconds per checkpoint.
inline TrialSpec TinyTrial(int64_t updates = 50, uint64_t seed = 11) {
  TrialSpec spec;
  spec.dataset.name = "shapeset";
  spec.dataset.validation_examples = 40;
  spec.dataset.test_examples = 60;
  spec.activation = "tanh";
  spec.init = "normalized";
  spec.depth = 1;
  spec.width = 8;
  spec.learning_rate = 0.05;
  spec.batch_size = 10;
  spec.updates = updates;
  spec.checkpoint_every = 10;
  spec.probe_examples = 20;
  spec.seed = seed;
  spec.data_seed = seed;
  return spec;
}

// A trial that cannot finish on its own within any test: it ends only when
// the worker stops it.
inline TrialSpec EndlessTrial() {
  TrialSpec spec = TinyTrial(int64_t{1} << 40);
  spec.checkpoint_every = 20;
  return spec;
}

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_TESTS_WORKER_TEST_TRIALS_H_
