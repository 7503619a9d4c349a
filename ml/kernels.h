// Dense products behind the trainer's three per-layer operations:
//
//   Multiply:    C = A B              forward   s = W a
//   MultiplyAt:  C = A^T B            backward  g = W^T delta
//   AddOuter:    C += alpha A B^T     update    W -= rate delta a^T
//
// All matrices are column-major with unit inner stride (Eigen::Ref), so a
// block of adjacent columns (a minibatch) needs no copy.
//
// For float, each call picks one of three implementations:
//  - the small-batch kernels in kernels.cc: AVX2+FMA register-blocked loops
//    that read W in place, without the packing copy a general GEMM makes of it
//    on every call (at 10 columns that copy costs as much as the product);
//  - OpenBLAS sgemm (cblas), the fastest measured for wide minibatches;
//  - Eigen's own GEMM, kept as a selectable reference.
// kAuto uses the small-batch kernels while the minibatch has at most the
// per-operation crossover below (measured with bench/gemm_bench, figures in
// docs/PERFORMANCE.md), else OpenBLAS. The kernels are compiled for AVX2+FMA
// with a target attribute and chosen at run time, so a portable build still
// uses them on CPUs that have those instructions; elsewhere OpenBLAS is used.
//
// double always uses Eigen (gradient checks, not speed).
//
// Determinism: for a given backend, shape and CPU feature set, results are
// bit-identical from run to run (fixed summation order, no threads).
// Thread-safety: the products are reentrant (scratch space is thread_local);
// SetBlasThreads changes process-wide state.
#ifndef DEEPSWEEP_ML_KERNELS_H_
#define DEEPSWEEP_ML_KERNELS_H_

#include <string_view>

#include "Eigen/Core"
#include "absl/status/statusor.h"

namespace deepsweep::ml {

enum class GemmBackend {
  kAuto,        // small-batch kernels up to the crossovers below, else OpenBLAS
  kEigen,       // always Eigen's GEMM
  kSmallBatch,  // always the small-batch kernels (Eigen if the CPU lacks AVX2+FMA)
  kBlas,        // always OpenBLAS sgemm
};

// "auto", "eigen", "small_batch", "blas".
std::string_view GemmBackendName(GemmBackend backend);
absl::StatusOr<GemmBackend> ParseGemmBackend(std::string_view name);

// kAuto's crossovers: the largest minibatch served by the small-batch kernels.
inline constexpr int kMultiplySmallBatchMax = 16;
inline constexpr int kMultiplyAtSmallBatchMax = 32;
inline constexpr int kAddOuterSmallBatchMax = 16;
inline constexpr int kFusedSmallBatchMax = 16;

// Threads OpenBLAS may use (process-wide; OpenBLAS's own default is one per
// core). The trainer sets it from its config before training.
void SetBlasThreads(int threads);

// True when this CPU runs the small-batch kernels (AVX2 and FMA).
bool SmallBatchKernelsAvailable();

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;

// C = A B. Requires a.cols() == b.rows(), c is a.rows() x b.cols(); c must not
// alias a or b.
void Multiply(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
              Eigen::Ref<MatrixF> c, GemmBackend backend = GemmBackend::kAuto);
// C = A^T B. Requires a.rows() == b.rows(), c is a.cols() x b.cols().
void MultiplyAt(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
                Eigen::Ref<MatrixF> c, GemmBackend backend = GemmBackend::kAuto);
// C += alpha A B^T. Requires a.cols() == b.cols(), c is a.rows() x b.rows().
void AddOuter(float alpha, const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
              Eigen::Ref<MatrixF> c, GemmBackend backend = GemmBackend::kAuto);

// G = W^T D, then W += alpha D A^T: one layer's backward product and SGD
// update. G is computed from W as it was before the update. With the
// small-batch kernels W is read from memory once for both (block by block);
// otherwise it is MultiplyAt followed by AddOuter.
void MultiplyAtThenAddOuter(float alpha, Eigen::Ref<MatrixF> w, const Eigen::Ref<const MatrixF>& d,
                            const Eigen::Ref<const MatrixF>& a, Eigen::Ref<MatrixF> g,
                            GemmBackend backend = GemmBackend::kAuto);
// double: MultiplyAt then AddOuter with Eigen.
void MultiplyAtThenAddOuter(double alpha, Eigen::Ref<MatrixD> w, const Eigen::Ref<const MatrixD>& d,
                            const Eigen::Ref<const MatrixD>& a, Eigen::Ref<MatrixD> g,
                            GemmBackend backend = GemmBackend::kAuto);

void Multiply(const Eigen::Ref<const MatrixD>& a, const Eigen::Ref<const MatrixD>& b,
              Eigen::Ref<MatrixD> c, GemmBackend backend = GemmBackend::kAuto);
void MultiplyAt(const Eigen::Ref<const MatrixD>& a, const Eigen::Ref<const MatrixD>& b,
                Eigen::Ref<MatrixD> c, GemmBackend backend = GemmBackend::kAuto);
void AddOuter(double alpha, const Eigen::Ref<const MatrixD>& a, const Eigen::Ref<const MatrixD>& b,
              Eigen::Ref<MatrixD> c, GemmBackend backend = GemmBackend::kAuto);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_KERNELS_H_
