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
//  - the small-batch kernels (ml/small_batch_tiles.inc): register-blocked
//    loops that read W in place, without the packing copy a general GEMM makes
//    of it on every call (at 10 columns that copy costs as much as the
//    product). One portable binary carries them for three instruction sets,
//    each compiled with a target attribute: AVX-512, AVX2+FMA and a baseline
//    (SSE2, every x86-64). The process runs one of them, the KernelIsa, picked
//    by CPUID at start (the best this CPU has) or chosen with SelectKernelIsa;
//  - OpenBLAS sgemm (cblas), which picks its own kernels by CPUID;
//  - Eigen's own GEMM, kept as a selectable reference.
// kAuto picks one of them by the product's column count (the minibatch
// width) from the process's AutoPlan: DefaultAutoPlan() (the small-batch
// kernels up to 32 columns, then OpenBLAS) unless a measured one was selected
// (ml/auto_calibration.h times the three on whole training steps; the worker
// does so at start, worker/auto_plan.h).
//
// double always uses Eigen (gradient checks, not speed).
//
// Determinism: for a given backend, shape, KernelIsa and OpenBLAS core,
// results are bit-identical from run to run (fixed summation order, no
// threads). Different implementations and ISAs round differently (summation
// order, FMA or not, lane counts), so their results differ in the last bits;
// ComputePath() names everything kAuto's results depend on (the ISA, the
// OpenBLAS core and the AutoPlan), so a replay can select the same.
// Thread-safety: the products are reentrant (scratch space is thread_local);
// SetBlasThreads, SelectKernelIsa and SelectAutoPlan change process-wide
// state.
#ifndef DEEPSWEEP_ML_KERNELS_H_
#define DEEPSWEEP_ML_KERNELS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"

namespace deepsweep::ml {

enum class GemmBackend {
  kAuto,        // by column count, from the process's AutoPlan
  kEigen,       // always Eigen's GEMM
  kSmallBatch,  // always the small-batch kernels
  kBlas,        // always OpenBLAS sgemm
};

// "auto", "eigen", "small_batch", "blas".
std::string_view GemmBackendName(GemmBackend backend);
absl::StatusOr<GemmBackend> ParseGemmBackend(std::string_view name);

// The instruction sets of the small-batch kernels, slowest first.
enum class KernelIsa {
  kGeneric,  // SSE2, no FMA: any x86-64
  kAvx2,     // AVX2 + FMA
  kAvx512,   // AVX-512 F/VL/DQ + FMA
};

// "generic", "avx2", "avx512".
std::string_view KernelIsaName(KernelIsa isa);
absl::StatusOr<KernelIsa> ParseKernelIsa(std::string_view name);

// True when this CPU (and OS) runs `isa` (CPUID).
bool KernelIsaSupported(KernelIsa isa);
// The fastest ISA this CPU supports.
KernelIsa BestKernelIsa();

// The ISA the small-batch kernels use in this process: BestKernelIsa() until
// SelectKernelIsa changes it. FailedPrecondition, naming the ISA, when this CPU
// lacks it (nothing changes then).
KernelIsa ActiveKernelIsa();
absl::Status SelectKernelIsa(KernelIsa isa);

// kAuto's choice by column count: range i, from columns `first` up to the
// next range's first - 1 (the last range: every wider product), is served by
// `backend` (kEigen, kSmallBatch or kBlas). Valid plans start at 1 with
// strictly increasing firsts. Text form (ComputePath, caches, flags): the
// ranges as "first:backend" joined by commas, e.g. "1:small_batch,33:blas".
struct AutoPlan {
  struct Range {
    int first = 1;
    GemmBackend backend = GemmBackend::kSmallBatch;
    bool operator==(const Range&) const = default;
  };
  std::vector<Range> ranges;

  // The backend serving products of `columns` columns (>= 1).
  GemmBackend For(int64_t columns) const;
  bool operator==(const AutoPlan&) const = default;
};

// The plan without a measurement: the small-batch kernels up to 32 columns,
// OpenBLAS beyond ("1:small_batch,33:blas"; measured on an AVX2 machine, and
// what every binary before measured plans ran).
AutoPlan DefaultAutoPlan();
std::string AutoPlanText(const AutoPlan& plan);
// InvalidArgument naming what is wrong (syntax, an unknown or `auto` backend,
// not starting at 1, firsts not increasing).
absl::StatusOr<AutoPlan> ParseAutoPlan(std::string_view text);

// The plan kAuto uses in this process: DefaultAutoPlan() until SelectAutoPlan
// changes it (InvalidArgument for an invalid plan; nothing changes then).
AutoPlan ActiveAutoPlan();
absl::Status SelectAutoPlan(const AutoPlan& plan);

// The kernel core OpenBLAS picked for this CPU (by CPUID), e.g. "Cooperlake".
std::string OpenBlasCoreName();

// What the bits of this process's float products depend on besides the
// inputs and the binary: the small-batch ISA, the OpenBLAS core, kAuto's
// plan and the small-batch forward's summation, e.g. "avx512
// openblas=Cooperlake auto=1:small_batch,33:blas forward=blocks256". Two
// processes with the same compute path (and binary) compute the same results.
std::string ComputePath();
// The ISA a ComputePath() string names (its first word); empty when it names
// none this binary knows.
std::optional<KernelIsa> ComputePathIsa(std::string_view path);
// The plan a ComputePath() string names (its "auto=" word). Paths stored
// before plans were measured have none: they ran DefaultAutoPlan(), which is
// returned for them. Empty when the word is there but not a valid plan.
std::optional<AutoPlan> ComputePathAutoPlan(std::string_view path);
// `path` with its plan and forward summation written out: a path without
// "auto=" gets DefaultAutoPlan()'s, one without "forward=" gets "rows" (the
// forward before blocks), so paths from before and after compare as equal
// exactly when they computed the same way. "" stays "" (not recorded).
std::string CanonicalComputePath(std::string_view path);

// While it lives, this process computes on what `path` names as far as this
// CPU can: its ISA when supported, its plan when valid (ComputePath() then
// says what was reached); the destructor puts the previous ISA and plan back.
// For replays and tests that reproduce a stored trial. Not thread-safe with
// other computation in the process (both settings are process-wide).
class ScopedComputePath {
 public:
  explicit ScopedComputePath(std::string_view path);
  ~ScopedComputePath();
  ScopedComputePath(const ScopedComputePath&) = delete;
  ScopedComputePath& operator=(const ScopedComputePath&) = delete;

 private:
  KernelIsa isa_before_;
  AutoPlan plan_before_;
};

// Threads OpenBLAS may use (process-wide; OpenBLAS's own default is one per
// core). The trainer sets it from its config before training.
void SetBlasThreads(int threads);

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
