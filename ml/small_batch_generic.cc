// The small-batch kernels for any x86-64 CPU: SSE2 (4 floats per xmm
// register, 16 registers), multiply then add (no FMA); a tile of 8 rows x 6
// columns of C in 12 accumulators; MultiplyAt tiles of 4 columns of A x 2 of
// B. The path when the CPU has neither AVX2+FMA nor AVX-512.
#include <immintrin.h>

#include <algorithm>

#include "ml/small_batch.h"

namespace deepsweep::ml::small_batch {
namespace generic {

#define DS_TARGET

struct V {
  using Reg = __m128;
  static constexpr Index kLanes = 4;
  static Reg Zero() { return _mm_setzero_ps(); }
  static Reg Load(const float* p) { return _mm_loadu_ps(p); }
  static Reg LoadPartial(const float* p, Index count) {
    alignas(16) float lanes[4] = {0, 0, 0, 0};
    for (Index i = 0; i < count; ++i) lanes[i] = p[i];
    return _mm_load_ps(lanes);
  }
  static void Store(float* p, Reg r) { _mm_storeu_ps(p, r); }
  static void StorePartial(float* p, Reg r, Index count) {
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, r);
    for (Index i = 0; i < count; ++i) p[i] = lanes[i];
  }
  static Reg Broadcast(const float* p) { return _mm_set1_ps(*p); }
  static Reg MulAdd(Reg a, Reg b, Reg acc) { return _mm_add_ps(_mm_mul_ps(a, b), acc); }
  // (l0+l2) + (l1+l3).
  static float Sum(Reg v) {
    const __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55)));
  }
};

constexpr int kMV = 2;
constexpr int kCols = 6;
constexpr int kDotColumns = 4;
constexpr int kDotWidth = 2;

#include "ml/small_batch_tiles.inc"

#undef DS_TARGET

}  // namespace generic

const Kernels kGeneric = generic::kSet;

}  // namespace deepsweep::ml::small_batch
