// The small-batch kernels for AVX-512: 16 floats per zmm register and 32
// registers, so a tile of 32 rows x 12 columns of C fits in 24 accumulators
// beside the two A vectors and one broadcast, and a minibatch of 10 is one
// column chunk (every row panel of W is loaded once per product instead of
// twice); MultiplyAt tiles of 6 columns of A x 4 of B (24 accumulators).
// Partial vectors use AVX-512 masks.
#include <immintrin.h>

#include <algorithm>

#include "ml/small_batch.h"

namespace deepsweep::ml::small_batch {
namespace avx512 {

#define DS_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))

struct V {
  using Reg = __m512;
  static constexpr Index kLanes = 16;
  DS_TARGET static __mmask16 Mask(Index count) {
    return static_cast<__mmask16>((1u << static_cast<unsigned>(count)) - 1u);
  }
  DS_TARGET static Reg Zero() { return _mm512_setzero_ps(); }
  DS_TARGET static Reg Load(const float* p) { return _mm512_loadu_ps(p); }
  DS_TARGET static Reg LoadPartial(const float* p, Index count) {
    return _mm512_maskz_loadu_ps(Mask(count), p);
  }
  DS_TARGET static void Store(float* p, Reg r) { _mm512_storeu_ps(p, r); }
  DS_TARGET static void StorePartial(float* p, Reg r, Index count) {
    _mm512_mask_storeu_ps(p, Mask(count), r);
  }
  DS_TARGET static Reg Broadcast(const float* p) { return _mm512_set1_ps(*p); }
  DS_TARGET static Reg MulAdd(Reg a, Reg b, Reg acc) { return _mm512_fmadd_ps(a, b, acc); }
  // The 256-bit half `i` of v. Zero-masked with every lane kept, so the same
  // values as _mm512_extractf64x4_pd and _mm512_castps512_ps256, whose
  // _mm256_undefined_pd() GCC 12.2 reports as used uninitialized (GCC bug
  // 105593).
  template <int i>
  DS_TARGET static __m256 Half(Reg v) {
    return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(v), i));
  }
  // Halves added pairwise down to one lane (256, 128, 64, 32 bits).
  DS_TARGET static float Sum(Reg v) {
    const __m256 h = _mm256_add_ps(Half<0>(v), Half<1>(v));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

constexpr int kMV = 2;
constexpr int kCols = 12;
constexpr int kDotColumns = 6;
constexpr int kDotWidth = 2;

#include "ml/small_batch_tiles.inc"

#undef DS_TARGET

}  // namespace avx512

const Kernels kAvx512 = avx512::kSet;

}  // namespace deepsweep::ml::small_batch
