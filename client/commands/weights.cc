#include "client/commands/weights.h"

#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/npz.h"
#include "common/status_macros.h"
#include "core/trial_fields.h"
#include "ml/mlp.h"
#include "ml/trainer.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"

namespace deepsweep::client {

absl::Status ExportWeights(CommandContext& context, const std::string& trial,
                           const WeightsOptions& options) {
  if (options.output.empty()) return absl::InvalidArgumentError("-o FILE is required");
  ASSIGN_OR_RETURN(const TrialId id, ParseTrialId(trial));
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  ASSIGN_OR_RETURN(const TrialRecord record, coordinator->GetTrial(id));
  ASSIGN_OR_RETURN(const rpc::DownloadedSnapshot snapshot, coordinator->DownloadWeights(id));
  ASSIGN_OR_RETURN(const ml::TrainConfig config,
                   worker::ToTrainConfig(record.spec, worker::TrialRunnerOptions{}));
  ASSIGN_OR_RETURN(const ml::SnapshotNet net, ml::ReadSnapshotNet(snapshot.bytes, config));

  NpzWriter npz;
  std::vector<int64_t> architecture = {net.net.shape().input_dim};
  for (int width : net.net.shape().hidden) architecture.push_back(width);
  architecture.push_back(net.net.shape().output_dim);
  for (int l = 0; l < net.net.num_layers(); ++l) {
    // Row-major (out, in), numpy's default order.
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w =
        net.net.weights(l);
    npz.AddFloat32(absl::StrCat("W", l), {w.rows(), w.cols()},
                   std::span<const float>(w.data(), static_cast<size_t>(w.size())));
    const auto& b = net.net.biases(l);
    npz.AddFloat32(absl::StrCat("b", l), {b.size()},
                   std::span<const float>(b.data(), static_cast<size_t>(b.size())));
  }
  npz.AddString("activation", record.spec.activation);
  npz.AddInt64("architecture", {static_cast<int64_t>(architecture.size())}, architecture);
  const int64_t step = net.step;
  npz.AddInt64("step", {}, std::span<const int64_t>(&step, 1));

  std::string computed;
  if (options.test_set) {
    ASSIGN_OR_RETURN(const ml::DatasetOptions data_options, worker::ToDatasetOptions(record.spec));
    worker::DatasetCache datasets(worker::DatasetCacheOptions{.shapeset_sets = 0});
    ASSIGN_OR_RETURN(ml::Dataset data, datasets.Load(data_options, record.spec.data_seed));
    const ml::Examples& test = data.test;
    // Column-major (inputs x n) is row-major (n, inputs): one row per example.
    npz.AddFloat32("test_x", {test.size(), test.x.rows()},
                   std::span<const float>(test.x.data(), static_cast<size_t>(test.x.size())));
    std::vector<int64_t> labels(test.y.begin(), test.y.end());
    npz.AddInt64("test_y", {test.size()}, labels);
    ml::Pass<float> pass;
    const ml::BatchLoss total =
        ml::EvaluateSet(net.net, config.loss, test.x, test.y.data(), pass, config.eval_chunk);
    computed =
        absl::StrFormat(", test error from these weights %.17g",
                        static_cast<double>(total.errors) / static_cast<double>(test.size()));
  }
  ASSIGN_OR_RETURN(const std::string bytes, npz.Finish());
  std::ofstream file(options.output, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", options.output));
  context.out() << TrialLabel(record.id, record.spec) << ": wrote " << options.output << " ("
                << bytes.size() << " bytes, " << net.net.num_layers() << " layers, update " << step
                << "; stored test error "
                << (record.final_test_error ? absl::StrFormat("%.17g", *record.final_test_error)
                                            : std::string("none"))
                << computed << ")\n";
  return absl::OkStatus();
}

void AddWeightsCommand(CLI::App& app, CommandContext& context) {
  auto trial = std::make_shared<std::string>();
  auto options = std::make_shared<WeightsOptions>();
  CLI::App* weights = app.add_subcommand(
      "weights", "Write a succeeded trial's trained net as a numpy .npz (W0, b0, ...)");
  weights->add_option("TRIAL", *trial, "Trial id")->required();
  weights->add_option("-o,--output", options->output, "The .npz file to write")->required();
  weights->add_flag("--test-set", options->test_set,
                    "Also write the trial's test set (test_x, test_y) as deepsweep evaluated it");
  weights->callback([&context, trial, options] {
    context.Run([&] { return ExportWeights(context, *trial, *options); });
  });
}

}  // namespace deepsweep::client
