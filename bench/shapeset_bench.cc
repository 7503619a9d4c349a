// How fast the training data arrives, per image, on one core:
//   - the paper's online Shapeset stream (draw + rasterize + render), and its
//     two halves;
//   - peers in the same run: reading Fashion-MNIST's stored training images
//     through the same TrainingStream interface, and the cheapest piece of the
//     training step the data must keep up with, the first hidden layer's
//     forward product W x for the paper's 1000-unit layer.
// Run: build/bench/shapeset_bench --benchmark_min_time=1
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "benchmark/benchmark.h"
#include "ml/data/dataset_factory.h"
#include "ml/data/shapeset.h"
#include "ml/random.h"

namespace deepsweep::ml {
namespace {

void BM_ShapesetStream(benchmark::State& state) {
  const auto batch = static_cast<int>(state.range(0));
  ShapesetStream stream(Rng(1));
  ExampleMatrix x(kShapesetInputDim, batch);
  std::vector<int32_t> y(batch);
  for (auto _ : state) {
    stream.NextBatch(x, y.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_ShapesetStream)->Arg(10)->Arg(100);

void BM_ShapesetDrawScene(benchmark::State& state) {
  Rng rng(2);
  for (auto _ : state) {
    ShapesetScene scene = DrawShapesetScene(rng);
    benchmark::DoNotOptimize(scene);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ShapesetDrawScene);

void BM_ShapesetRender(benchmark::State& state) {
  Rng rng(3);
  const ShapesetScene scene = DrawShapesetScene(rng);
  std::array<float, kShapesetInputDim> pixels;
  for (auto _ : state) {
    RenderShapesetScene(scene, pixels.data());
    benchmark::DoNotOptimize(pixels.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ShapesetRender);

// Peer: stored images (uint8 -> float, [-1, 1]) through an EpochStream.
void BM_FashionMnistStream(benchmark::State& state) {
  DatasetOptions options;
  options.name = "fashion-mnist";
  options.validation_examples = 10000;
  options.test_examples = 0;
  options.probe_examples = 0;
  if (!std::filesystem::exists(DefaultDatasetPath(options.name))) {
    state.SkipWithError("Fashion-MNIST is not installed (dataset-fashion-mnist)");
    return;
  }
  auto dataset = LoadDataset(options, 1);
  if (!dataset.ok()) {
    state.SkipWithError(std::string(dataset.status().message()).c_str());
    return;
  }
  const int batch = 10;
  ExampleMatrix x(dataset->input_dim, batch);
  std::vector<int32_t> y(batch);
  for (auto _ : state) {
    dataset->train->NextBatch(x, y.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_FashionMnistStream);

// What a worker pays per trial for Fashion-MNIST once the files are cached:
// splitting, converting the 10k validation and 10k test images and the probe
// set (pm1), or also fitting the standardization on the 50k training images.
void BM_FashionMnistBuildFromCache(benchmark::State& state) {
  DatasetOptions options;
  options.name = "fashion-mnist";
  options.preprocess = state.range(0) == 0 ? Preprocess::kPm1 : Preprocess::kStandardize;
  RawImageCache cache;
  auto raw = cache.Get(options.name, "");
  if (!raw.ok()) {
    state.SkipWithError(std::string(raw.status().message()).c_str());
    return;
  }
  uint64_t seed = 0;
  for (auto _ : state) {
    auto dataset = LoadDataset(options, ++seed, &cache);
    benchmark::DoNotOptimize(dataset);
  }
}
BENCHMARK(BM_FashionMnistBuildFromCache)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Peer: one 1000 x 1024 layer's forward product on a batch of 10 Shapeset
// inputs, h = W x; a training step costs several such products per layer.
void BM_FirstLayerForward(benchmark::State& state) {
  const int batch = 10;
  Eigen::MatrixXf w = Eigen::MatrixXf::Random(1000, kShapesetInputDim);
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(kShapesetInputDim, batch);
  Eigen::MatrixXf h(1000, batch);
  for (auto _ : state) {
    h.noalias() = w * x;
    benchmark::DoNotOptimize(h.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_FirstLayerForward);

}  // namespace
}  // namespace deepsweep::ml

BENCHMARK_MAIN();
