// `deepsweep weights TRIAL -o FILE.npz [--test-set]` writes the trained net
// of a succeeded trial (its final snapshot, kept when the spec says
// keep_weights: final) as a numpy .npz (client/npz.h), readable without
// deepsweep:
//   W0 .. W{L-1}  float32 (out, in): layer l computes s = W_l a + b_l
//   b0 .. b{L-1}  float32 (out,)
//   activation    the hidden layers' activation (0-d unicode array)
//   architecture  int64 [inputs, hidden widths..., classes]
//   step          int64 updates done
// and with --test-set the trial's test set as deepsweep evaluated it:
//   test_x float32 (n, inputs) preprocessed, test_y int64 (n,).
// docs/CLI.md shows how numpy and PyTorch load it. Prints the test error
// this binary computes from the file's weights next to the stored one.
//
// Thread-safety: registration happens once, from RunCli.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_WEIGHTS_H_
#define DEEPSWEEP_CLIENT_COMMANDS_WEIGHTS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/command_context.h"

namespace deepsweep::client {

struct WeightsOptions {
  std::string output;
  bool test_set = false;
};

absl::Status ExportWeights(CommandContext& context, const std::string& trial,
                           const WeightsOptions& options);

void AddWeightsCommand(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_WEIGHTS_H_
