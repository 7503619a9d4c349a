#include "ml/kernels.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "ml/kernel_threads.h"
#include "ml/small_batch.h"

// OpenBLAS's own entry points (declared here so any cblas.h will do).
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" char* openblas_get_corename(void);

namespace deepsweep::ml {
namespace {

using Index = Eigen::Index;

// The process's ISA (a function-local static: safe to read from other
// translation units' static initializers).
std::atomic<KernelIsa>& ActiveIsa() {
  static std::atomic<KernelIsa> isa{BestKernelIsa()};
  return isa;
}

// Every plan this process selected, kept until exit (a process selects a
// handful), so the products read the active one through one atomic pointer.
const AutoPlan* InternPlan(const AutoPlan& plan) {
  static std::mutex mu;
  static std::deque<AutoPlan> plans;
  const std::lock_guard<std::mutex> lock(mu);
  for (const AutoPlan& p : plans) {
    if (p == plan) return &p;
  }
  return &plans.emplace_back(plan);
}

std::atomic<const AutoPlan*>& ActivePlan() {
  static std::atomic<const AutoPlan*> plan{InternPlan(DefaultAutoPlan())};
  return plan;
}

const small_batch::Kernels& ActiveKernels() {
  switch (ActiveIsa().load(std::memory_order_relaxed)) {
    case KernelIsa::kAvx512:
      return small_batch::kAvx512;
    case KernelIsa::kAvx2:
      return small_batch::kAvx2;
    case KernelIsa::kGeneric:
      break;
  }
  return small_batch::kGeneric;
}

// bt[j * n + t] = alpha b(j, t): the scaled B^T the rank-n update broadcasts
// from, one short contiguous run per column of C.
const float* ScaledTranspose(float alpha, const Eigen::Ref<const MatrixF>& b) {
  thread_local std::vector<float> bt;
  const Index k = b.rows(), n = b.cols();
  bt.resize(static_cast<size_t>(k * n));
  for (Index j = 0; j < k; ++j) {
    for (Index t = 0; t < n; ++t) bt[j * n + t] = alpha * b(j, t);
  }
  return bt.data();
}

// Products below this many flops run on the caller alone: splitting them
// would cost more in waking threads than it saves.
constexpr double kMinParallelFlops = 2.5e5;

// Part p of `parts` of [0, total), in whole granules: fixed for (total,
// granule, parts), and results do not depend on it anyway (ml/small_batch.h).
Index PartBegin(Index total, Index granule, int parts, int p) {
  const Index granules = (total + granule - 1) / granule;
  return std::min(total, granules * p / parts * granule);
}

// Runs range(begin, end) over [0, total): split over the calling thread's
// KernelThreads (ml/kernel_threads.h), or whole on the caller.
template <typename Range>
void ForParts(Index total, Index granule, double flops, const Range& range) {
  KernelThreads* pool = KernelThreads::Current();
  if (pool == nullptr || pool->threads() == 1 || flops < kMinParallelFlops) {
    range(0, total);
    return;
  }
  struct Job {
    const Range* range;
    Index total, granule;
    int parts;
  } job{&range, total, granule, pool->threads()};
  pool->Run(
      [](void* context, int p) {
        const Job& j = *static_cast<const Job*>(context);
        const Index begin = PartBegin(j.total, j.granule, j.parts, p);
        const Index end = PartBegin(j.total, j.granule, j.parts, p + 1);
        if (begin < end) (*j.range)(begin, end);
      },
      &job);
}

double Flops(Index m, Index k, Index n) { return 2.0 * static_cast<double>(m * k * n); }

// C = A B in blocks of kForwardBlock columns of A (rows of B), fixed by the
// shape: C = ((C_0 + C_1) + C_2) + ..., C_j = A[:, block j] B[block j, :] by
// the small-batch kernel. Threads take consecutive blocks, so each streams
// whole columns of the column-major A (a row split streams half of every
// column, and scales 1.5x on two cores where this does 2x) and holds the
// columns that the backward pass, split by A's columns, updates. The blocks
// and the order of the sum do not depend on the thread count, so neither do
// the bits.
constexpr Index kForwardBlock = 256;

void MultiplySmallBatch(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
                        Eigen::Ref<MatrixF> c) {
  const small_batch::Kernels& kernels = ActiveKernels();
  const Index k = a.cols(), rows = a.rows(), cols = b.cols();
  const Index blocks = (k + kForwardBlock - 1) / kForwardBlock;
  // C_0 goes to c, C_j (j >= 1) to partials[(j - 1) rows cols ...].
  // (The caller's buffer: a thread_local named inside the lambda would be each
  // helper's own.)
  thread_local std::vector<float> partials;
  if (blocks > 1) partials.resize(static_cast<size_t>((blocks - 1) * rows * cols));
  float* const scratch = partials.data();
  ForParts(blocks, 1, Flops(rows, k, cols), [&](Index begin, Index end) {
    for (Index j = begin; j < end; ++j) {
      const Index k0 = j * kForwardBlock, k1 = std::min(k, k0 + kForwardBlock);
      float* out = j == 0 ? c.data() : scratch + (j - 1) * rows * cols;
      kernels.multiply(k1 - k0, cols, a.data() + k0 * a.outerStride(), a.outerStride(),
                       b.data() + k0, b.outerStride(), out, j == 0 ? c.outerStride() : rows, 0,
                       rows);
    }
  });
  for (Index j = 1; j < blocks; ++j) {
    c.noalias() += Eigen::Map<const MatrixF>(scratch + (j - 1) * rows * cols, rows, cols);
  }
}

void MultiplyAtSmallBatch(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
                          Eigen::Ref<MatrixF> c) {
  const small_batch::Kernels& kernels = ActiveKernels();
  ForParts(a.cols(), kernels.column_tile, Flops(a.rows(), a.cols(), b.cols()),
           [&](Index begin, Index end) {
             kernels.multiply_at(a.rows(), b.cols(), a.data(), a.outerStride(), b.data(),
                                 b.outerStride(), c.data(), c.outerStride(), begin, end);
           });
}

void AddOuterSmallBatch(float alpha, const Eigen::Ref<const MatrixF>& a,
                        const Eigen::Ref<const MatrixF>& b, Eigen::Ref<MatrixF> c) {
  const small_batch::Kernels& kernels = ActiveKernels();
  const float* bt = ScaledTranspose(alpha, b);
  ForParts(c.cols(), kernels.column_tile, Flops(c.rows(), c.cols(), a.cols()),
           [&](Index begin, Index end) {
             kernels.add_outer(c.rows(), a.cols(), a.data(), a.outerStride(), bt, c.data(),
                               c.outerStride(), begin, end);
           });
}

void MultiplyAtThenAddOuterSmallBatch(float alpha, Eigen::Ref<MatrixF> w,
                                      const Eigen::Ref<const MatrixF>& d,
                                      const Eigen::Ref<const MatrixF>& a, Eigen::Ref<MatrixF> g) {
  const small_batch::Kernels& kernels = ActiveKernels();
  const float* at = ScaledTranspose(alpha, a);
  ForParts(w.cols(), kernels.column_tile, 2 * Flops(w.rows(), w.cols(), d.cols()),
           [&](Index begin, Index end) {
             kernels.multiply_at_then_add_outer(w.rows(), d.cols(), w.data(), w.outerStride(),
                                                d.data(), d.outerStride(), at, g.data(),
                                                g.outerStride(), begin, end);
           });
}

// Which implementation serves one call (kAuto: the active plan's).
enum class Impl { kEigen, kSmallBatch, kBlas };

Impl Choose(GemmBackend backend, Index columns) {
  if (backend == GemmBackend::kAuto) {
    backend = ActivePlan().load(std::memory_order_acquire)->For(columns);
  }
  switch (backend) {
    case GemmBackend::kEigen:
      return Impl::kEigen;
    case GemmBackend::kBlas:
      return Impl::kBlas;
    case GemmBackend::kSmallBatch:
    case GemmBackend::kAuto:  // not in a valid plan
      break;
  }
  return Impl::kSmallBatch;
}

absl::Status ValidateAutoPlan(const AutoPlan& plan) {
  if (plan.ranges.empty() || plan.ranges.front().first != 1) {
    return absl::InvalidArgumentError("an auto plan's first range must start at 1 column");
  }
  for (size_t i = 0; i < plan.ranges.size(); ++i) {
    if (plan.ranges[i].backend == GemmBackend::kAuto) {
      return absl::InvalidArgumentError("an auto plan's ranges name eigen, small_batch or blas");
    }
    if (i > 0 && plan.ranges[i].first <= plan.ranges[i - 1].first) {
      return absl::InvalidArgumentError(
          absl::StrCat("an auto plan's ranges must start at "
                       "increasing column counts; ",
                       plan.ranges[i].first, " follows ", plan.ranges[i - 1].first));
    }
  }
  return absl::OkStatus();
}

int BlasInt(Index v) { return static_cast<int>(v); }

}  // namespace

std::string_view GemmBackendName(GemmBackend backend) {
  switch (backend) {
    case GemmBackend::kAuto:
      return "auto";
    case GemmBackend::kEigen:
      return "eigen";
    case GemmBackend::kSmallBatch:
      return "small_batch";
    case GemmBackend::kBlas:
      return "blas";
  }
  return "unknown";
}

absl::StatusOr<GemmBackend> ParseGemmBackend(std::string_view name) {
  for (GemmBackend b :
       {GemmBackend::kAuto, GemmBackend::kEigen, GemmBackend::kSmallBatch, GemmBackend::kBlas}) {
    if (name == GemmBackendName(b)) return b;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown gemm backend '", std::string(name),
                                                 "'; valid: auto, eigen, small_batch, blas"));
}

std::string_view KernelIsaName(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kGeneric:
      return "generic";
    case KernelIsa::kAvx2:
      return "avx2";
    case KernelIsa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

absl::StatusOr<KernelIsa> ParseKernelIsa(std::string_view name) {
  for (KernelIsa isa : {KernelIsa::kGeneric, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (name == KernelIsaName(isa)) return isa;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown kernel instruction set '", std::string(name), "'; valid: generic, avx2, avx512"));
}

bool KernelIsaSupported(KernelIsa isa) {
  // libgcc's CPUID check also asks the OS (XGETBV) whether it saves the
  // registers. __builtin_cpu_init: this may run before libgcc's constructor.
  __builtin_cpu_init();
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  static const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                             __builtin_cpu_supports("avx512vl") &&
                             __builtin_cpu_supports("avx512dq");
  switch (isa) {
    case KernelIsa::kGeneric:
      return true;
    case KernelIsa::kAvx2:
      return avx2;
    case KernelIsa::kAvx512:
      return avx512;
  }
  return false;
}

KernelIsa BestKernelIsa() {
  for (KernelIsa isa : {KernelIsa::kAvx512, KernelIsa::kAvx2}) {
    if (KernelIsaSupported(isa)) return isa;
  }
  return KernelIsa::kGeneric;
}

KernelIsa ActiveKernelIsa() { return ActiveIsa().load(std::memory_order_relaxed); }

absl::Status SelectKernelIsa(KernelIsa isa) {
  if (!KernelIsaSupported(isa)) {
    return absl::FailedPreconditionError(
        absl::StrCat("this CPU cannot run the ", std::string(KernelIsaName(isa)),
                     " kernels (best here: ", std::string(KernelIsaName(BestKernelIsa())), ")"));
  }
  ActiveIsa().store(isa, std::memory_order_relaxed);
  return absl::OkStatus();
}

GemmBackend AutoPlan::For(int64_t columns) const {
  GemmBackend backend = GemmBackend::kSmallBatch;
  for (const Range& range : ranges) {
    if (columns < range.first) break;
    backend = range.backend;
  }
  return backend;
}

AutoPlan DefaultAutoPlan() {
  return AutoPlan{.ranges = {{.first = 1, .backend = GemmBackend::kSmallBatch},
                             {.first = 33, .backend = GemmBackend::kBlas}}};
}

std::string AutoPlanText(const AutoPlan& plan) {
  return absl::StrJoin(plan.ranges, ",", [](std::string* out, const AutoPlan::Range& range) {
    absl::StrAppend(out, range.first, ":", std::string(GemmBackendName(range.backend)));
  });
}

absl::StatusOr<AutoPlan> ParseAutoPlan(std::string_view text) {
  AutoPlan plan;
  for (absl::string_view part : absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    const std::vector<absl::string_view> fields = absl::StrSplit(part, absl::MaxSplits(':', 1));
    AutoPlan::Range range;
    if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &range.first)) {
      return absl::InvalidArgumentError(absl::StrCat("auto plan '", std::string(text),
                                                     "': expected first:backend,... "
                                                     "(e.g. 1:small_batch,33:blas), got '",
                                                     std::string(part), "'"));
    }
    absl::StatusOr<GemmBackend> backend =
        ParseGemmBackend(std::string_view(fields[1].data(), fields[1].size()));
    if (!backend.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("auto plan '", std::string(text), "': ", backend.status().message()));
    }
    range.backend = *backend;
    plan.ranges.push_back(range);
  }
  if (absl::Status valid = ValidateAutoPlan(plan); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("auto plan '", std::string(text), "': ", valid.message()));
  }
  return plan;
}

AutoPlan ActiveAutoPlan() { return *ActivePlan().load(std::memory_order_acquire); }

absl::Status SelectAutoPlan(const AutoPlan& plan) {
  RETURN_IF_ERROR(ValidateAutoPlan(plan));
  ActivePlan().store(InternPlan(plan), std::memory_order_release);
  return absl::OkStatus();
}

namespace {
constexpr std::string_view kAutoWord = " auto=";
}  // namespace

std::string OpenBlasCoreName() {
  const char* core = openblas_get_corename();
  return core != nullptr ? core : "unknown";
}

// The small-batch forward's summation (MultiplySmallBatch): "blocks256" since
// it sums blocks of kForwardBlock columns; paths stored before the word was
// written ran one sum over all columns ("rows": split by output rows).
constexpr std::string_view kForwardWord = " forward=";
constexpr std::string_view kForwardNow = "blocks256";
constexpr std::string_view kForwardBefore = "rows";
static_assert(kForwardBlock == 256, "kForwardNow names the block width");

std::string ComputePath() {
  return absl::StrCat(std::string(KernelIsaName(ActiveKernelIsa())),
                      " openblas=", OpenBlasCoreName(), std::string(kAutoWord),
                      AutoPlanText(ActiveAutoPlan()), std::string(kForwardWord),
                      std::string(kForwardNow));
}

std::optional<KernelIsa> ComputePathIsa(std::string_view path) {
  absl::StatusOr<KernelIsa> isa = ParseKernelIsa(path.substr(0, path.find(' ')));
  if (!isa.ok()) return std::nullopt;
  return *isa;
}

namespace {
// The value of `path`'s word `key` (" key=value"), up to the next space.
std::optional<std::string_view> WordValue(std::string_view path, std::string_view key) {
  const size_t at = path.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view value = path.substr(at + key.size());
  return value.substr(0, value.find(' '));
}
}  // namespace

std::optional<AutoPlan> ComputePathAutoPlan(std::string_view path) {
  const std::optional<std::string_view> text = WordValue(path, kAutoWord);
  if (!text.has_value()) return DefaultAutoPlan();
  absl::StatusOr<AutoPlan> plan = ParseAutoPlan(*text);
  if (!plan.ok()) return std::nullopt;
  return *std::move(plan);
}

std::string CanonicalComputePath(std::string_view path) {
  if (path.empty()) return "";
  const std::string_view head =
      path.substr(0, std::min(path.find(kAutoWord), path.find(kForwardWord)));
  const std::optional<std::string_view> plan = WordValue(path, kAutoWord);
  const std::optional<std::string_view> forward = WordValue(path, kForwardWord);
  return absl::StrCat(std::string(head), std::string(kAutoWord),
                      plan ? std::string(*plan) : AutoPlanText(DefaultAutoPlan()),
                      std::string(kForwardWord), std::string(forward.value_or(kForwardBefore)));
}

ScopedComputePath::ScopedComputePath(std::string_view path)
    : isa_before_(ActiveKernelIsa()), plan_before_(ActiveAutoPlan()) {
  if (const std::optional<KernelIsa> isa = ComputePathIsa(path);
      isa.has_value() && KernelIsaSupported(*isa)) {
    (void)SelectKernelIsa(*isa);  // supported: cannot fail
  }
  if (const std::optional<AutoPlan> plan = ComputePathAutoPlan(path); plan.has_value()) {
    (void)SelectAutoPlan(*plan);  // parsed, so valid: cannot fail
  }
}

ScopedComputePath::~ScopedComputePath() {
  (void)SelectKernelIsa(isa_before_);
  (void)SelectAutoPlan(plan_before_);
}

void SetBlasThreads(int threads) { openblas_set_num_threads(std::max(1, threads)); }

void Multiply(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
              Eigen::Ref<MatrixF> c, GemmBackend backend) {
  switch (Choose(backend, b.cols())) {
    case Impl::kSmallBatch:
      MultiplySmallBatch(a, b, c);
      break;
    case Impl::kBlas:
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, BlasInt(a.rows()), BlasInt(b.cols()),
                  BlasInt(a.cols()), 1.0f, a.data(), BlasInt(a.outerStride()), b.data(),
                  BlasInt(b.outerStride()), 0.0f, c.data(), BlasInt(c.outerStride()));
      break;
    case Impl::kEigen:
      c.noalias() = a * b;
      break;
  }
}

void MultiplyAt(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
                Eigen::Ref<MatrixF> c, GemmBackend backend) {
  switch (Choose(backend, b.cols())) {
    case Impl::kSmallBatch:
      MultiplyAtSmallBatch(a, b, c);
      break;
    case Impl::kBlas:
      cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, BlasInt(a.cols()), BlasInt(b.cols()),
                  BlasInt(a.rows()), 1.0f, a.data(), BlasInt(a.outerStride()), b.data(),
                  BlasInt(b.outerStride()), 0.0f, c.data(), BlasInt(c.outerStride()));
      break;
    case Impl::kEigen:
      c.noalias() = a.transpose() * b;
      break;
  }
}

void AddOuter(float alpha, const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
              Eigen::Ref<MatrixF> c, GemmBackend backend) {
  switch (Choose(backend, a.cols())) {
    case Impl::kSmallBatch:
      AddOuterSmallBatch(alpha, a, b, c);
      break;
    case Impl::kBlas:
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, BlasInt(c.rows()), BlasInt(c.cols()),
                  BlasInt(a.cols()), alpha, a.data(), BlasInt(a.outerStride()), b.data(),
                  BlasInt(b.outerStride()), 1.0f, c.data(), BlasInt(c.outerStride()));
      break;
    case Impl::kEigen:
      c.noalias() += alpha * a * b.transpose();
      break;
  }
}

void MultiplyAtThenAddOuter(float alpha, Eigen::Ref<MatrixF> w, const Eigen::Ref<const MatrixF>& d,
                            const Eigen::Ref<const MatrixF>& a, Eigen::Ref<MatrixF> g,
                            GemmBackend backend) {
  if (Choose(backend, d.cols()) == Impl::kSmallBatch) {
    MultiplyAtThenAddOuterSmallBatch(alpha, w, d, a, g);
  } else {
    MultiplyAt(w, d, g, backend);
    AddOuter(alpha, d, a, w, backend);
  }
}

void Multiply(const Eigen::Ref<const MatrixD>& a, const Eigen::Ref<const MatrixD>& b,
              Eigen::Ref<MatrixD> c, GemmBackend /*backend*/) {
  c.noalias() = a * b;
}

void MultiplyAt(const Eigen::Ref<const MatrixD>& a, const Eigen::Ref<const MatrixD>& b,
                Eigen::Ref<MatrixD> c, GemmBackend /*backend*/) {
  c.noalias() = a.transpose() * b;
}

void AddOuter(double alpha, const Eigen::Ref<const MatrixD>& a, const Eigen::Ref<const MatrixD>& b,
              Eigen::Ref<MatrixD> c, GemmBackend /*backend*/) {
  c.noalias() += alpha * a * b.transpose();
}

void MultiplyAtThenAddOuter(double alpha, Eigen::Ref<MatrixD> w, const Eigen::Ref<const MatrixD>& d,
                            const Eigen::Ref<const MatrixD>& a, Eigen::Ref<MatrixD> g,
                            GemmBackend backend) {
  MultiplyAt(w, d, g, backend);
  AddOuter(alpha, d, a, w, backend);
}

}  // namespace deepsweep::ml
