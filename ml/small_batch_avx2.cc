// The small-batch kernels for AVX2 + FMA: 8 floats per ymm register; a tile of
// 16 rows x 6 columns of C in 12 of the 16 registers, leaving room for the two
// A vectors and one broadcast (the shape of the classic Haswell sgemm
// micro-kernel); MultiplyAt tiles of 6 columns of A x 2 of B.
#include <immintrin.h>

#include <algorithm>

#include "ml/small_batch.h"

namespace deepsweep::ml::small_batch {
namespace avx2 {

#define DS_TARGET __attribute__((target("avx2,fma")))

struct V {
  using Reg = __m256;
  static constexpr Index kLanes = 8;
  // Lanes [0, count) all ones.
  DS_TARGET static __m256i Mask(Index count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  DS_TARGET static Reg Zero() { return _mm256_setzero_ps(); }
  DS_TARGET static Reg Load(const float* p) { return _mm256_loadu_ps(p); }
  DS_TARGET static Reg LoadPartial(const float* p, Index count) {
    return _mm256_maskload_ps(p, Mask(count));
  }
  DS_TARGET static void Store(float* p, Reg r) { _mm256_storeu_ps(p, r); }
  DS_TARGET static void StorePartial(float* p, Reg r, Index count) {
    _mm256_maskstore_ps(p, Mask(count), r);
  }
  DS_TARGET static Reg Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  DS_TARGET static Reg MulAdd(Reg a, Reg b, Reg acc) { return _mm256_fmadd_ps(a, b, acc); }
  // ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)).
  DS_TARGET static float Sum(Reg v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

constexpr int kMV = 2;
constexpr int kCols = 6;
constexpr int kDotColumns = 6;
constexpr int kDotWidth = 2;

#include "ml/small_batch_tiles.inc"

#undef DS_TARGET

}  // namespace avx2

const Kernels kAvx2 = avx2::kSet;

}  // namespace deepsweep::ml::small_batch
