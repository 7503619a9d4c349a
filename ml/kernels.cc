#include "ml/kernels.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

// OpenBLAS's own entry point (declared here so any cblas.h will do).
extern "C" void openblas_set_num_threads(int num_threads);

namespace deepsweep::ml {
namespace {

// Functions compiled for AVX2+FMA whatever the build's -march; only called
// after SmallBatchKernelsAvailable() said yes.
#define DS_AVX2 __attribute__((target("avx2,fma")))

using Index = Eigen::Index;

// Register tiles. Multiply and AddOuter hold an (8*MV) x N tile of C in
// MV*N ymm accumulators: 16 x 6 uses 12 of the 16 registers, leaving room for
// the two A vectors and one broadcast (the shape of the classic Haswell sgemm
// micro-kernel). MultiplyAt holds J columns of A against N columns of B.
constexpr int kRows = 16;  // rows of C per full tile (two ymm vectors)
constexpr int kCols = 6;   // columns of C per tile

// Multiply walks A (= W) in blocks of kDepth columns: within a block, the row
// panels go down kDepth contiguous column streams that the hardware prefetcher
// follows, where walking one row panel across all k columns would touch a new
// page per column and miss in cache on every load once W outgrows the cache.
constexpr Index kDepth = 16;

// C[0:8MV, 0:N] (+)= A[0:8MV, 0:k] B[0:k, 0:N]  (+= when `accumulate`).
// For each p: c(:, j) += a(:, p) * b(p, j), a(:, p) loaded once, b(p, j)
// broadcast; the tile of C stays in registers for the whole k loop.
template <int MV, int N>
DS_AVX2 void MultiplyTile(Index k, const float* a, Index lda, const float* b, Index ldb, float* c,
                          Index ldc, bool accumulate) {
  __m256 acc[MV][N];
#pragma GCC unroll 8
  for (int v = 0; v < MV; ++v) {
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      acc[v][j] = accumulate ? _mm256_loadu_ps(c + j * ldc + 8 * v) : _mm256_setzero_ps();
    }
  }
  for (Index p = 0; p < k; ++p, a += lda) {
    // The row panel 4 tiles below in this column: needed soon, and not
    // reliably fetched by the hardware across 16 interleaved streams.
    _mm_prefetch(reinterpret_cast<const char*>(a + 4 * kRows), _MM_HINT_T0);
    __m256 av[MV];
#pragma GCC unroll 8
    for (int v = 0; v < MV; ++v) av[v] = _mm256_loadu_ps(a + 8 * v);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      const __m256 bj = _mm256_broadcast_ss(b + p + j * ldb);
#pragma GCC unroll 8
      for (int v = 0; v < MV; ++v) acc[v][j] = _mm256_fmadd_ps(av[v], bj, acc[v][j]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < N; ++j) {
#pragma GCC unroll 8
    for (int v = 0; v < MV; ++v) _mm256_storeu_ps(c + j * ldc + 8 * v, acc[v][j]);
  }
}

// Sum of the 8 lanes.
DS_AVX2 inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// C[0:J, 0:N] = A[0:m, 0:J]^T B[0:m, 0:N]: J x N dot products of length m,
// each accumulated in 8 lanes over rows, then summed across lanes.
template <int J, int N>
DS_AVX2 void MultiplyAtTile(Index m, const float* a, Index lda, const float* b, Index ldb, float* c,
                            Index ldc) {
  __m256 acc[J][N];
#pragma GCC unroll 8
  for (int q = 0; q < J; ++q) {
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) acc[q][j] = _mm256_setzero_ps();
  }
  const Index m8 = m - m % 8;
  for (Index i = 0; i < m8; i += 8) {
    __m256 av[J];
#pragma GCC unroll 8
    for (int q = 0; q < J; ++q) av[q] = _mm256_loadu_ps(a + q * lda + i);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      const __m256 bv = _mm256_loadu_ps(b + j * ldb + i);
#pragma GCC unroll 8
      for (int q = 0; q < J; ++q) acc[q][j] = _mm256_fmadd_ps(av[q], bv, acc[q][j]);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < J; ++q) {
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      float sum = HorizontalSum(acc[q][j]);
      for (Index i = m8; i < m; ++i) sum += a[q * lda + i] * b[j * ldb + i];
      c[j * ldc + q] = sum;
    }
  }
}

// C[0:8MV, 0:N] += A[0:8MV, 0:n] Bt where Bt[j * n + t] = alpha B(j, t) for the
// N columns j of this tile: a rank-n update of a tile loaded once and stored
// once.
template <int MV, int N>
DS_AVX2 void AddOuterTile(Index n, const float* a, Index lda, const float* bt, float* c,
                          Index ldc) {
  __m256 acc[MV][N];
#pragma GCC unroll 8
  for (int j = 0; j < N; ++j) {
#pragma GCC unroll 8
    for (int v = 0; v < MV; ++v) acc[v][j] = _mm256_loadu_ps(c + j * ldc + 8 * v);
  }
  for (Index t = 0; t < n; ++t) {
    __m256 av[MV];
#pragma GCC unroll 8
    for (int v = 0; v < MV; ++v) av[v] = _mm256_loadu_ps(a + t * lda + 8 * v);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      const __m256 bj = _mm256_broadcast_ss(bt + j * n + t);
#pragma GCC unroll 8
      for (int v = 0; v < MV; ++v) acc[v][j] = _mm256_fmadd_ps(av[v], bj, acc[v][j]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < N; ++j) {
#pragma GCC unroll 8
    for (int v = 0; v < MV; ++v) _mm256_storeu_ps(c + j * ldc + 8 * v, acc[v][j]);
  }
}

// Runtime dispatch from a column count 1..kCols to the template instance.
template <template <int, int> class Tile, int MV, typename... Args>
void DispatchColumns(int cols, Args... args) {
  switch (cols) {
    case 1:
      Tile<MV, 1>::Run(args...);
      break;
    case 2:
      Tile<MV, 2>::Run(args...);
      break;
    case 3:
      Tile<MV, 3>::Run(args...);
      break;
    case 4:
      Tile<MV, 4>::Run(args...);
      break;
    case 5:
      Tile<MV, 5>::Run(args...);
      break;
    default:
      Tile<MV, 6>::Run(args...);
      break;
  }
}

template <int MV, int N>
struct MultiplyTileFn {
  static void Run(Index k, const float* a, Index lda, const float* b, Index ldb, float* c,
                  Index ldc, bool accumulate) {
    MultiplyTile<MV, N>(k, a, lda, b, ldb, c, ldc, accumulate);
  }
};
template <int MV, int N>
struct AddOuterTileFn {
  static void Run(Index n, const float* a, Index lda, const float* bt, float* c, Index ldc) {
    AddOuterTile<MV, N>(n, a, lda, bt, c, ldc);
  }
};

// Splits n columns into ceil(n / kCols) chunks of near-equal width (10 -> 5 + 5
// rather than 6 + 4), so every pass over a panel of A keeps as many
// accumulators busy as possible.
Index ChunkWidth(Index n) {
  const Index chunks = (n + kCols - 1) / kCols;
  return (n + chunks - 1) / chunks;
}

void MultiplySmallBatch(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
                        Eigen::Ref<MatrixF> c) {
  const Index m = a.rows(), k = a.cols(), n = b.cols();
  const Index lda = a.outerStride(), ldb = b.outerStride(), ldc = c.outerStride();
  const Index width = ChunkWidth(n);
  const Index m16 = m - m % kRows;
  const bool has8 = m - m16 >= 8;
  for (Index p0 = 0; p0 < k; p0 += kDepth) {
    const Index depth = std::min(kDepth, k - p0);
    const bool accumulate = p0 > 0;
    const float* ap = a.data() + p0 * lda;
    const float* bp = b.data() + p0;
    for (Index j = 0; j < n; j += width) {
      const int cols = static_cast<int>(std::min<Index>(width, n - j));
      for (Index i = 0; i < m16; i += kRows) {
        DispatchColumns<MultiplyTileFn, 2>(cols, depth, ap + i, lda, bp + j * ldb, ldb,
                                           c.data() + i + j * ldc, ldc, accumulate);
      }
      if (has8) {
        DispatchColumns<MultiplyTileFn, 1>(cols, depth, ap + m16, lda, bp + j * ldb, ldb,
                                           c.data() + m16 + j * ldc, ldc, accumulate);
      }
    }
  }
  const Index done = m16 + (has8 ? 8 : 0);
  if (done < m) c.bottomRows(m - done).noalias() = a.bottomRows(m - done) * b;
}

// C = A^T B with tiles of kDotColumns columns of A against kDotWidth columns of
// B: each pass down the rows loads kDotWidth columns of B (from L2) for
// kDotColumns x kDotWidth multiply-adds, so B, re-read once per tile of A's
// columns, costs k / kDotColumns passes in all; the A columns are re-read per
// chunk of B from L1.
constexpr Index kDotColumns = 6;
constexpr Index kDotWidth = 2;

void MultiplyAtSmallBatch(const Eigen::Ref<const MatrixF>& a, const Eigen::Ref<const MatrixF>& b,
                          Eigen::Ref<MatrixF> c) {
  const Index m = a.rows(), k = a.cols(), n = b.cols();
  const Index lda = a.outerStride(), ldb = b.outerStride(), ldc = c.outerStride();
  for (Index q = 0; q < k; q += kDotColumns) {
    const Index cols = std::min(kDotColumns, k - q);
    for (Index j = 0; j < n; j += kDotWidth) {
      const bool pair = j + 2 <= n;
      const float* aq = a.data() + q * lda;
      const float* bj = b.data() + j * ldb;
      float* cq = c.data() + q + j * ldc;
      if (cols == kDotColumns) {
        if (pair) {
          MultiplyAtTile<6, 2>(m, aq, lda, bj, ldb, cq, ldc);
        } else {
          MultiplyAtTile<6, 1>(m, aq, lda, bj, ldb, cq, ldc);
        }
        continue;
      }
      for (Index r = 0; r < cols; ++r) {
        if (pair) {
          MultiplyAtTile<1, 2>(m, aq + r * lda, lda, bj, ldb, cq + r, ldc);
        } else {
          MultiplyAtTile<1, 1>(m, aq + r * lda, lda, bj, ldb, cq + r, ldc);
        }
      }
    }
  }
}

// While one block of C's columns is updated, the next block is prefetched into
// L2 so its load from memory overlaps this block's arithmetic. After C's last
// block, `next` (when not null; `next_cols` columns, stride ldc, C's rows) is
// prefetched instead: the fused backward pass passes the next block of W.
void AddOuterSmallBatch(float alpha, const Eigen::Ref<const MatrixF>& a,
                        const Eigen::Ref<const MatrixF>& b, Eigen::Ref<MatrixF> c,
                        const float* next = nullptr, Index next_cols = 0) {
  const Index m = c.rows(), k = c.cols(), n = a.cols();
  const Index lda = a.outerStride(), ldc = c.outerStride();
  // bt[j * n + t] = alpha b(j, t): the scaled B^T, so each tile broadcasts from
  // one short contiguous run.
  thread_local std::vector<float> bt;
  bt.resize(static_cast<size_t>(k * n));
  for (Index j = 0; j < k; ++j) {
    for (Index t = 0; t < n; ++t) bt[j * n + t] = alpha * b(j, t);
  }
  const Index m16 = m - m % kRows;
  const bool has8 = m - m16 >= 8;
  for (Index j = 0; j < k; j += kCols) {
    const int cols = static_cast<int>(std::min<Index>(kCols, k - j));
    const float* btj = bt.data() + j * n;
    float* cj = c.data() + j * ldc;
    // The block after this one: C's own next columns, else the caller's.
    const bool inside = j + cols < k;
    const float* ahead = inside ? cj + cols * ldc : next;
    const Index ahead_cols = inside ? std::min<Index>(kCols, k - j - cols) : next_cols;
    for (Index i = 0; i < m16; i += kRows) {
      if (ahead != nullptr) {
        for (Index q = 0; q < ahead_cols; ++q) {
          _mm_prefetch(reinterpret_cast<const char*>(ahead + q * ldc + i), _MM_HINT_T1);
        }
      }
      DispatchColumns<AddOuterTileFn, 2>(cols, n, a.data() + i, lda, btj, cj + i, ldc);
    }
    if (has8) DispatchColumns<AddOuterTileFn, 1>(cols, n, a.data() + m16, lda, btj, cj + m16, ldc);
  }
  const Index done = m16 + (has8 ? 8 : 0);
  if (done < m) c.bottomRows(m - done).noalias() += alpha * a.bottomRows(m - done) * b.transpose();
}

// G = W^T D, then W += alpha D A^T, one block of kCols columns of W at a time:
// the block's G rows are formed from the old W while the block is in L1, then
// the block is updated in place, so W streams from memory once instead of twice.
void MultiplyAtThenAddOuterSmallBatch(float alpha, Eigen::Ref<MatrixF> w,
                                      const Eigen::Ref<const MatrixF>& d,
                                      const Eigen::Ref<const MatrixF>& a, Eigen::Ref<MatrixF> g) {
  const Index k = w.cols();
  for (Index j = 0; j < k; j += kCols) {
    const Index cols = std::min<Index>(kCols, k - j);
    MultiplyAtSmallBatch(w.middleCols(j, cols), d, g.middleRows(j, cols));
    const Index next_cols = std::min<Index>(kCols, k - j - cols);
    AddOuterSmallBatch(alpha, d, a.middleRows(j, cols), w.middleCols(j, cols),
                       next_cols > 0 ? w.data() + (j + cols) * w.outerStride() : nullptr,
                       next_cols);
  }
}

// Which implementation serves one call (kAuto: see kSmallBatchMaxColumns).
enum class Impl { kEigen, kSmallBatch, kBlas };

Impl Choose(GemmBackend backend, Index columns) {
  switch (backend) {
    case GemmBackend::kEigen:
      return Impl::kEigen;
    case GemmBackend::kBlas:
      return Impl::kBlas;
    case GemmBackend::kSmallBatch:
      return SmallBatchKernelsAvailable() ? Impl::kSmallBatch : Impl::kEigen;
    case GemmBackend::kAuto:
      break;
  }
  if (columns <= kSmallBatchMaxColumns && SmallBatchKernelsAvailable()) return Impl::kSmallBatch;
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

bool SmallBatchKernelsAvailable() {
  static const bool available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return available;
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
