// Made-up but consistent training curves for client tests: checkpoints whose
// layer statistics follow simple closed forms, so a test (or a person looking
// at a plot) knows what every number should be.
#ifndef DEEPSWEEP_TESTS_CLIENT_SAMPLE_CHECKPOINTS_H_
#define DEEPSWEEP_TESTS_CLIENT_SAMPLE_CHECKPOINTS_H_

#include <cstdint>
#include <vector>

#include "core/trial.h"

namespace deepsweep::client::testing {

struct SampleCurve {
  int depth = 4;                  // hidden layers with statistics
  int checkpoints = 6;            // at steps 0, every, 2 * every, ...
  int64_t every = 1000;           // updates between checkpoints
  int batch_size = 10;            // examples_seen = step * batch_size
  double final_test_error = 0.2;  // test error at the last checkpoint
  bool layer_stats = true;
  int histogram_bins = 20;
};

// Checkpoint i (0-based, step = i * every) of layer l (1-based) has:
//   test_error       = final + (0.9 - final) * (n - 1 - i) / (n - 1)
//   activation mean  = 0.1 * l * i / (n - 1), std = 0.1 + 0.05 * l
//   p02 / p50 / p98  = mean - 2 std / mean / mean + 2 std
//   jacobian_sv_mean = 1 - 0.1 * l
//   backprop_grad    std = 0.001 * l,        weight_grad std = 0.002 * l
//   histogram        `bins` bins over [-1, 1]: a triangle centred on the mean
//                    with half-width 2 std, normalized to sum 1.
std::vector<Checkpoint> MakeCheckpoints(const SampleCurve& curve);

}  // namespace deepsweep::client::testing

#endif  // DEEPSWEEP_TESTS_CLIENT_SAMPLE_CHECKPOINTS_H_
