// Training throughput of the paper's largest net, 784 -> 1000 x 5 -> 10 tanh,
// softmax + NLL, plain SGD, float32, one thread; and the cost of monitoring it.
//
//   BM_TrainStep/<backend>/batch:B  one SGD update (forward, backward, fused
//       update) on a minibatch of B; counters examples/s and GFLOP/s per second
//       of CPU time (the Time column is wall time), where one example costs
//       6 x 4,794,000 weights = 28.8 MFLOP (forward 2, backward 4).
//   BM_LayerProbe/jacobian:J  LayerProbe::Measure on 300 probe examples with J
//       exact Jacobian SVDs per layer (J = 0: statistics only).
//   BM_Evaluate/examples:N  test-set evaluation (forward only) of N examples.
// Monitoring overhead at the paper's cadence = probe time / (20,000 x step time
// at batch 10); bench/run_trainer_bench.sh prints it beside PyTorch's rate.
//
// `auto` runs the plan this process measures at start, as a worker does
// (worker/auto_plan.h; printed as "auto plan: ..."), unless
// --auto_plan=PLAN|default gives one; --cache_dir=DIR reads and writes the
// worker's cache there (default: measure every run, no cache).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "ml/kernel_threads.h"
#include "ml/kernels.h"
#include "ml/layer_probe.h"
#include "ml/mlp.h"
#include "ml/random.h"
#include "worker/auto_plan.h"

namespace deepsweep::ml {
namespace {

const MlpShape kShape{.input_dim = 784,
                      .hidden = {1000, 1000, 1000, 1000, 1000},
                      .output_dim = 10,
                      .activation = Activation::kTanh};

Mlp<float> PaperNet() {
  auto net = Mlp<float>::Create(kShape);
  Rng rng(1);
  net->Initialize(Init::kNormalized, 1.0, rng);
  return *std::move(net);
}

// Inputs uniform in [-1, 1] with random labels, like a Shapeset stream.
Examples RandomExamples(int n, uint64_t seed) {
  Rng rng(seed);
  Examples e;
  e.x.resize(kShape.input_dim, n);
  for (Eigen::Index i = 0; i < e.x.size(); ++i)
    e.x.data()[i] = static_cast<float>(rng.Uniform(-1, 1));
  for (int i = 0; i < n; ++i)
    e.y.push_back(static_cast<int32_t>(rng.UniformInt(kShape.output_dim)));
  return e;
}

void BM_TrainStep(benchmark::State& state) {
  const auto backend = static_cast<GemmBackend>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const auto isa = static_cast<KernelIsa>(state.range(2));
  const KernelThreads threads(static_cast<int>(state.range(3)));
  if (!SelectKernelIsa(isa).ok()) {
    state.SkipWithError("this CPU lacks the ISA");
    return;
  }
  SetBlasThreads(1);
  Mlp<float> net = PaperNet();
  constexpr int kPool = 64;
  const Examples pool = RandomExamples(kPool * batch, 2);
  Sgd<float> sgd(SgdOptions{.learning_rate = 0.01}, backend);
  Pass<float> pass;
  int64_t i = 0;
  for (auto _ : state) {
    const int64_t b = i++ % kPool;
    const BatchLoss loss = sgd.Step(net, Loss::kNll, pool.x.middleCols(b * batch, batch),
                                    pool.y.data() + b * batch, pass);
    benchmark::DoNotOptimize(loss.loss);
  }
  (void)SelectKernelIsa(BestKernelIsa());
  const double examples = static_cast<double>(batch);
  state.counters["examples/s"] =
      benchmark::Counter(examples, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(examples * 6.0 * static_cast<double>(net.num_weights()) / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

void BM_LayerProbe(benchmark::State& state) {
  SetBlasThreads(1);
  const Mlp<float> net = PaperNet();
  LayerProbe probe(
      ProbeOptions{.histogram_bins = 50, .jacobian_examples = static_cast<int>(state.range(0))},
      RandomExamples(300, 3), Loss::kNll);
  for (auto _ : state) {
    auto stats = probe.Measure(net);
    benchmark::DoNotOptimize(stats.data());
  }
}

void BM_Evaluate(benchmark::State& state) {
  SetBlasThreads(1);
  const Mlp<float> net = PaperNet();
  const Examples set = RandomExamples(static_cast<int>(state.range(0)), 4);
  Pass<float> pass;
  for (auto _ : state) {
    const BatchLoss loss = EvaluateSet(net, Loss::kNll, set.x, set.y.data(), pass);
    benchmark::DoNotOptimize(loss.errors);
  }
}

void RegisterAll() {
  // <backend>/batch:B on the best ISA this CPU has; small_batch also on
  // each other ISA it has, as small_batch@<isa>.
  struct Variant {
    GemmBackend backend;
    KernelIsa isa;
    std::string name;
    int threads = 1;
  };
  std::vector<Variant> variants;
  for (GemmBackend backend :
       {GemmBackend::kAuto, GemmBackend::kEigen, GemmBackend::kSmallBatch, GemmBackend::kBlas}) {
    variants.push_back({backend, BestKernelIsa(), std::string(GemmBackendName(backend)), 1});
  }
  // Threads per trial (ml/kernel_threads.h): auto/threads:2.
  // Wall time for these two (the helper's CPU time is not the benchmark
  // thread's): compare them with each other.
  variants.push_back({GemmBackend::kAuto, BestKernelIsa(), "auto/threads:1/wall", 1});
  variants.push_back({GemmBackend::kAuto, BestKernelIsa(), "auto/threads:2/wall", 2});
  for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kGeneric}) {
    if (isa != BestKernelIsa() && KernelIsaSupported(isa)) {
      variants.push_back(
          {GemmBackend::kSmallBatch, isa, "small_batch@" + std::string(KernelIsaName(isa)), 1});
    }
  }
  for (const Variant& v : variants) {
    for (int batch : {1, 10, 32, 64, 128, 256}) {
      auto* b =
          benchmark::RegisterBenchmark(
              ("BM_TrainStep/" + v.name + "/batch:" + std::to_string(batch)).c_str(), BM_TrainStep)
              ->Args({static_cast<int>(v.backend), batch, static_cast<int>(v.isa), v.threads})
              ->Unit(benchmark::kMillisecond);
      if (v.name.find("/wall") != std::string::npos) b->UseRealTime();
    }
  }
  for (int j : {0, 1, 2}) {
    benchmark::RegisterBenchmark(("BM_LayerProbe/jacobian:" + std::to_string(j)).c_str(),
                                 BM_LayerProbe)
        ->Arg(j)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("BM_Evaluate/examples:10000", BM_Evaluate)
      ->Arg(10000)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace
}  // namespace deepsweep::ml

namespace {

// Takes --name=value out of argv (before benchmark::Initialize sees it).
std::string TakeFlag(int& argc, char** argv, const char* name, std::string fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      fallback = argv[i] + prefix.size();
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      break;
    }
  }
  return fallback;
}

// The plan `auto` runs: given, or measured (and cached) as a worker does.
bool SelectAutoPlan(int& argc, char** argv) {
  namespace ml = deepsweep::ml;
  const std::string given = TakeFlag(argc, argv, "auto_plan", "");
  const std::string cache_dir = TakeFlag(argc, argv, "cache_dir", "");
  if (!given.empty()) {
    absl::StatusOr<ml::AutoPlan> plan =
        given == "default" ? ml::DefaultAutoPlan() : ml::ParseAutoPlan(given);
    if (!plan.ok() || !ml::SelectAutoPlan(*plan).ok()) {
      std::fprintf(stderr, "--auto_plan: %s\n", plan.status().ToString().c_str());
      return false;
    }
    std::printf("auto plan: %s (given)\n", ml::AutoPlanText(*plan).c_str());
    return true;
  }
  ml::SetBlasThreads(1);
  absl::StatusOr<deepsweep::worker::AutoPlanResult> plan = deepsweep::worker::LoadOrMeasureAutoPlan(
      {.cache_dir = cache_dir}, deepsweep::worker::RealStepTimers());
  if (!plan.ok() || !ml::SelectAutoPlan(plan->plan).ok()) {
    std::fprintf(stderr, "measuring the auto plan: %s\n", plan.status().ToString().c_str());
    return false;
  }
  for (const std::string& warning : plan->warnings) std::fprintf(stderr, "%s\n", warning.c_str());
  std::printf("auto plan: %s (%s)\n", ml::AutoPlanText(plan->plan).c_str(),
              plan->from_cache ? "cached" : "measured now");
  for (const std::string& line : plan->summary) std::printf("auto plan:   %s\n", line.c_str());
  std::fflush(stdout);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (!SelectAutoPlan(argc, argv)) return 2;
  deepsweep::ml::RegisterAll();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
