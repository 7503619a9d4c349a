#include "ml/kernels.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

void MultiplySmallBatch(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
                        Eigen::Ref<MatrixF> c) {
  ActiveKernels().multiply(a.cols(), b.cols(), a.data(), a.outerStride(), b.data(), b.outerStride(),
                           c.data(), c.outerStride(), 0, a.rows());
}

void MultiplyAtSmallBatch(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
                          Eigen::Ref<MatrixF> c) {
  ActiveKernels().multiply_at(a.rows(), b.cols(), a.data(), a.outerStride(), b.data(),
                              b.outerStride(), c.data(), c.outerStride(), 0, a.cols());
}

void AddOuterSmallBatch(float alpha, const Eigen::Ref<const MatrixF>& a,
                        const Eigen::Ref<const MatrixF>& b, Eigen::Ref<MatrixF> c) {
  const float* bt = ScaledTranspose(alpha, b);
  ActiveKernels().add_outer(c.rows(), a.cols(), a.data(), a.outerStride(), bt, c.data(),
                            c.outerStride(), 0, c.cols());
}

void MultiplyAtThenAddOuterSmallBatch(float alpha, Eigen::Ref<MatrixF> w,
                                      const Eigen::Ref<const MatrixF>& d,
                                      const Eigen::Ref<const MatrixF>& a, Eigen::Ref<MatrixF> g) {
  const float* at = ScaledTranspose(alpha, a);
  ActiveKernels().multiply_at_then_add_outer(w.rows(), d.cols(), w.data(), w.outerStride(),
                                             d.data(), d.outerStride(), at, g.data(),
                                             g.outerStride(), 0, w.cols());
}

// Which implementation serves one call (kAuto: see SmallBatchMaxColumns).
enum class Impl { kEigen, kSmallBatch, kBlas };

Impl Choose(GemmBackend backend, Index columns) {
  switch (backend) {
    case GemmBackend::kEigen:
      return Impl::kEigen;
    case GemmBackend::kBlas:
      return Impl::kBlas;
    case GemmBackend::kSmallBatch:
      return Impl::kSmallBatch;
    case GemmBackend::kAuto:
      break;
  }
  if (columns <= SmallBatchMaxColumns(ActiveIsa().load(std::memory_order_relaxed))) {
    return Impl::kSmallBatch;
  }
  return Impl::kBlas;
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

int SmallBatchMaxColumns(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kGeneric:
    case KernelIsa::kAvx2:
    case KernelIsa::kAvx512:
      break;
  }
  return 32;
}

std::string ComputePath() {
  const char* core = openblas_get_corename();
  return absl::StrCat(std::string(KernelIsaName(ActiveKernelIsa())),
                      " openblas=", core != nullptr ? core : "unknown");
}

std::optional<KernelIsa> ComputePathIsa(std::string_view path) {
  absl::StatusOr<KernelIsa> isa = ParseKernelIsa(path.substr(0, path.find(' ')));
  if (!isa.ok()) return std::nullopt;
  return *isa;
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
