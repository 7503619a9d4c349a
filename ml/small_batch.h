// The small-batch kernels behind ml/kernels.h, one set per instruction set
// (ml/small_batch_tiles.inc holds the one algorithm; small_batch_<isa>.cc
// instantiates it with that ISA's vector type, each function compiled for its
// ISA by a target attribute, so one portable binary carries all of them).
// Internal to ml/: callers use ml/kernels.h.
//
// Every entry point computes a range of its output (rows of C for Multiply
// and MultiplyAt, columns of C for AddOuter and the fused pass), so a product
// can be split over threads. Each output element is computed by the same
// sequence of operations whatever the range that contains it: for a given ISA
// the results are bit-identical for every split.
//
// Matrices are column-major: element (i, j) of X is x[i + j * ldx].
#ifndef DEEPSWEEP_ML_SMALL_BATCH_H_
#define DEEPSWEEP_ML_SMALL_BATCH_H_

#include <cstdint>

namespace deepsweep::ml::small_batch {

using Index = std::ptrdiff_t;

struct Kernels {
  // Rows of C one register tile covers (output ranges are best split on it).
  Index row_tile;
  // Columns of C one register tile covers in AddOuter and the fused pass.
  Index column_tile;
  // C[i0:i1, :] = A[i0:i1, 0:k] B (A m x k, B k x n, C m x n).
  void (*multiply)(Index k, Index n, const float* a, Index lda, const float* b, Index ldb, float* c,
                   Index ldc, Index i0, Index i1);
  // C[q0:q1, :] = A[:, q0:q1]^T B (A m x k, B m x n, C k x n).
  void (*multiply_at)(Index m, Index n, const float* a, Index lda, const float* b, Index ldb,
                      float* c, Index ldc, Index q0, Index q1);
  // C[:, j0:j1] += A Bt[j0:j1]^T where bt[j * n + t] = alpha B(j, t) (A m x n,
  // C m x k): the rank-n update, with alpha folded into bt by the caller.
  void (*add_outer)(Index m, Index n, const float* a, Index lda, const float* bt, float* c,
                    Index ldc, Index j0, Index j1);
  // For W's columns j0:j1: G[j0:j1, :] = W[:, j0:j1]^T D from W before the
  // update, then W[:, j0:j1] += D At[j0:j1]^T with at[j * n + t] = alpha A(j, t)
  // (W m x k, D m x n, G k x n): the backward product and SGD update fused, so
  // each block of W is read from memory once for both.
  void (*multiply_at_then_add_outer)(Index m, Index n, float* w, Index ldw, const float* d,
                                     Index ldd, const float* at, float* g, Index ldg, Index j0,
                                     Index j1);
};

// Each set may be called only when the CPU has its instructions (ml/kernels.h
// KernelIsaSupported).
extern const Kernels kGeneric;  // SSE2 (every x86-64), multiply then add
extern const Kernels kAvx2;     // AVX2 + FMA
extern const Kernels kAvx512;   // AVX-512 F/VL/DQ + FMA

}  // namespace deepsweep::ml::small_batch

#endif  // DEEPSWEEP_ML_SMALL_BATCH_H_
