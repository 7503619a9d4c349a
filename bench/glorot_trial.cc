// Runs one Glorot & Bengio (2010) trial with the real Trainer, in-process, and
// prints one line per checkpoint: step, wall seconds, test error, train NLL and
// per hidden layer the activation mean / std / p98 and the weight-gradient std.
// A hand-run tool for choosing the quick scale of examples/glorot2010/ (the
// per-trial cost) and the settings of tests/findings/; never run as a test.
//
//   glorot_trial dataset=shapeset activation=sigmoid init=standard depth=4
//       width=300 lr=0.1 batch=10 updates=2000 every=200 seed=1 train=0
//       probe=300 jacobian=0 test=2000 preprocess=pm1 out=FILE
// With out=FILE it also writes every checkpoint to FILE as tab-separated
// lines: one "checkpoint" line (step, examples_seen, train_nll, test_error,
// test_nll, validation_error, validation_nll, wall_seconds), then one line per
// hidden layer and quantity (layer, quantity, mean, std, p02, p50, p98,
// saturated_fraction, jacobian_sv_mean, hist_lo, hist_hi, histogram bins
// separated by commas).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "common/clock.h"
#include "ml/data/dataset_factory.h"
#include "ml/trainer.h"

namespace {

std::map<std::string, std::string> ParseArgs(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "expected key=value, got '%s'\n", argv[i]);
      std::exit(2);
    }
    args[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return args;
}

std::string Get(const std::map<std::string, std::string>& args, const std::string& key,
                const std::string& fallback) {
  const auto it = args.find(key);
  return it == args.end() ? fallback : it->second;
}

double NowSeconds() {
  return absl::ToDoubleSeconds(deepsweep::SystemClock::Default()->Now() - absl::UnixEpoch());
}

void WriteQuantity(std::ofstream& out, int layer, const char* name,
                   const deepsweep::ml::QuantityStats& q) {
  out << "layer\t" << layer << '\t' << name << '\t' << q.mean << '\t' << q.std << '\t' << q.p02
      << '\t' << q.p50 << '\t' << q.p98 << '\t' << q.saturated_fraction << '\t'
      << q.jacobian_sv_mean << '\t' << q.hist_lo << '\t' << q.hist_hi << '\t';
  for (size_t i = 0; i < q.histogram.size(); ++i) out << (i ? "," : "") << q.histogram[i];
  out << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  using namespace deepsweep::ml;
  const auto args = ParseArgs(argc, argv);
  DatasetOptions data;
  data.name = Get(args, "dataset", "shapeset");
  data.path = Get(args, "path", "");
  data.train_examples = std::stoll(Get(args, "train", "0"));
  data.test_examples = std::stoll(Get(args, "test", "2000"));
  data.validation_examples = std::stoll(Get(args, "validation", "2000"));
  data.probe_examples = std::stoll(Get(args, "probe", "300"));
  auto preprocess = ParsePreprocess(Get(args, "preprocess", "pm1"));
  auto activation = ParseActivation(Get(args, "activation", "tanh"));
  auto init = ParseInit(Get(args, "init", "standard"));
  if (!preprocess.ok() || !activation.ok() || !init.ok()) {
    std::fprintf(stderr, "bad preprocess, activation or init\n");
    return 2;
  }
  data.preprocess = *preprocess;
  const uint64_t seed = std::stoull(Get(args, "seed", "1"));

  TrainConfig config;
  config.activation = *activation;
  config.init = *init;
  config.hidden.assign(std::stoul(Get(args, "depth", "5")), std::stoi(Get(args, "width", "300")));
  config.learning_rate = std::stod(Get(args, "lr", "0.01"));
  config.batch_size = std::stoi(Get(args, "batch", "10"));
  config.updates = std::stoll(Get(args, "updates", "2000"));
  config.checkpoint_every = std::stoll(Get(args, "every", "200"));
  config.probe_examples = static_cast<int>(data.probe_examples);
  config.jacobian_examples = std::stoi(Get(args, "jacobian", "0"));
  config.seed = seed;

  std::ofstream out;
  if (const std::string path = Get(args, "out", ""); !path.empty()) {
    out.open(path);
    out.precision(9);
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  const double start = NowSeconds();
  auto dataset = LoadDataset(data, std::stoull(Get(args, "data_seed", std::to_string(seed))));
  if (!dataset.ok()) {
    std::fprintf(stderr, "%s\n", std::string(dataset.status().message()).c_str());
    return 1;
  }
  const double loaded = NowSeconds();
  auto result = Trainer(config).Train(*dataset, [&](const CheckpointMetrics& m) {
    std::printf("step %7lld t %7.2f mon %6.2f err %.4f nll %.4f |", static_cast<long long>(m.step),
                m.wall_seconds, m.monitor_seconds, m.test_error, m.train_nll);
    for (const auto& l : m.layers) {
      std::printf(" L%d m %.3f s %.3f p98 %.3f sat %.2f gb %.2e gw %.2e jsv %.2f |", l.layer,
                  l.activation.mean, l.activation.std, l.activation.p98,
                  l.activation.saturated_fraction, l.backprop_grad.std, l.weight_grad.std,
                  l.activation.jacobian_sv_mean);
    }
    std::printf("\n");
    std::fflush(stdout);
    if (out.is_open()) {
      out << "checkpoint\t" << m.step << '\t' << m.examples_seen << '\t' << m.train_nll << '\t'
          << m.test_error << '\t' << m.test_nll << '\t' << m.validation_error << '\t'
          << m.validation_nll << '\t' << m.wall_seconds << '\n';
      for (const auto& l : m.layers) {
        WriteQuantity(out, l.layer, "activation", l.activation);
        WriteQuantity(out, l.layer, "backprop_grad", l.backprop_grad);
        WriteQuantity(out, l.layer, "weight_grad", l.weight_grad);
      }
      out.flush();
    }
    return false;
  });
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  if (out.is_open()) {
    out << "status\t" << TrainStatusName(result->status) << '\t' << result->reason << '\n';
  }
  std::printf("status %s load %.2fs train %.2fs\n",
              std::string(TrainStatusName(result->status)).c_str(), loaded - start,
              NowSeconds() - loaded);
  return 0;
}
