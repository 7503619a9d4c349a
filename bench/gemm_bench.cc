// Per-shape measurement of the three trainer products (docs/PERFORMANCE.md):
// Eigen's GEMM, the small-batch kernels (ml/kernels.h) and OpenBLAS sgemm, for a
// 1000 x 1000 layer at minibatch sizes 10, 32 and 128 on one thread.
//   Multiply    S = W A        (forward)
//   MultiplyAt  G = W^T D      (backward)
//   AddOuter    W += alpha D A^T (update)
// Run by hand: build/bench/gemm_bench (OPENBLAS_NUM_THREADS=1 is forced below).
#include <cblas.h>

#include "benchmark/benchmark.h"
#include "ml/kernels.h"
#include "ml/random.h"

extern "C" void openblas_set_num_threads(int);

namespace deepsweep::ml {
namespace {

constexpr int kWidth = 1000;

enum Op { kMultiply, kMultiplyAt, kAddOuter };
// kSmall runs the best ISA this CPU has; kSmallAvx2 and kSmallGeneric those ISAs.
enum Backend { kEigen, kSmall, kBlas, kSmallAvx2, kSmallGeneric };

MatrixF RandomMatrix(int rows, int cols, uint64_t seed) {
  Rng rng(seed);
  MatrixF m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.Uniform(-1, 1));
  return m;
}

void BM_Product(benchmark::State& state) {
  const Op op = static_cast<Op>(state.range(0));
  const Backend backend = static_cast<Backend>(state.range(1));
  const int n = static_cast<int>(state.range(2));
  openblas_set_num_threads(1);
  MatrixF w = RandomMatrix(kWidth, kWidth, 1);
  const MatrixF x = RandomMatrix(kWidth, n, 2);
  MatrixF out(kWidth, n);
  const GemmBackend ours = backend == kEigen ? GemmBackend::kEigen : GemmBackend::kSmallBatch;
  const KernelIsa isa = backend == kSmallAvx2      ? KernelIsa::kAvx2
                        : backend == kSmallGeneric ? KernelIsa::kGeneric
                                                   : BestKernelIsa();
  if (!SelectKernelIsa(isa).ok()) {
    state.SkipWithError("this CPU lacks the ISA");
    return;
  }
  for (auto _ : state) {
    switch (op) {
      case kMultiply:
        if (backend == kBlas) {
          cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, kWidth, n, kWidth, 1.0f, w.data(),
                      kWidth, x.data(), kWidth, 0.0f, out.data(), kWidth);
        } else {
          Multiply(w, x, out, ours);
        }
        break;
      case kMultiplyAt:
        if (backend == kBlas) {
          cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, kWidth, n, kWidth, 1.0f, w.data(),
                      kWidth, x.data(), kWidth, 0.0f, out.data(), kWidth);
        } else {
          MultiplyAt(w, x, out, ours);
        }
        break;
      case kAddOuter:
        // A tiny rate keeps W bounded over millions of iterations.
        if (backend == kBlas) {
          cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, kWidth, kWidth, n, -1e-9f, x.data(),
                      kWidth, x.data(), kWidth, 1.0f, w.data(), kWidth);
        } else {
          AddOuter(-1e-9f, x, x, w, ours);
        }
        break;
    }
    benchmark::ClobberMemory();
  }
  (void)SelectKernelIsa(BestKernelIsa());
  const double flops = 2.0 * kWidth * kWidth * n;
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

const char* kOpNames[] = {"multiply", "multiply_at", "add_outer"};
const char* kBackendNames[] = {"eigen", "small_batch", "openblas", "small_batch@avx2",
                               "small_batch@generic"};

void RegisterAll() {
  for (int op = 0; op < 3; ++op) {
    for (int backend = 0; backend < 5; ++backend) {
      for (int n : {10, 32, 64, 128}) {
        benchmark::RegisterBenchmark((std::string("BM_Product/") + kOpNames[op] + "/" +
                                      kBackendNames[backend] + "/batch:" + std::to_string(n))
                                         .c_str(),
                                     BM_Product)
            ->Args({op, backend, n})
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace
}  // namespace deepsweep::ml

int main(int argc, char** argv) {
  deepsweep::ml::RegisterAll();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
