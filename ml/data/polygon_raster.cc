#include "ml/data/polygon_raster.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace deepsweep::ml {
namespace {

// Bits [first, last] of a row word; requires 0 <= first <= last < 32.
uint32_t BitRange(int first, int last) {
  const uint32_t upto_last = last == 31 ? ~0u : ((1u << (last + 1)) - 1u);
  return upto_last & ~((1u << first) - 1u);
}

// ceil(v - 0.5): the first pixel index whose centre is >= v. Clamped to
// [-1, kMaskSide + 1] before the cast so far-away vertices cannot overflow.
int FirstCentreAtOrAfter(double v) {
  const double clamped = std::clamp(v - 0.5, -1.0, kMaskSide + 1.0);
  return static_cast<int>(std::ceil(clamped));
}

}  // namespace

int PixelMask::Area() const {
  int area = 0;
  for (uint32_t row : rows) area += std::popcount(row);
  return area;
}

PixelMask Intersect(const PixelMask& a, const PixelMask& b) {
  PixelMask out;
  for (int r = 0; r < kMaskSide; ++r) out.rows[r] = a.rows[r] & b.rows[r];
  return out;
}

PixelMask FillPolygon(std::span<const Point2> vertices) {
  PixelMask mask;
  const int n = static_cast<int>(vertices.size());
  if (n < 3 || n > kMaxPolygonVertices) return mask;

  double y_min = vertices[0].y;
  double y_max = vertices[0].y;
  for (const Point2& v : vertices) {
    y_min = std::min(y_min, v.y);
    y_max = std::max(y_max, v.y);
  }
  // Rows whose centre y = r + 0.5 may fall in [y_min, y_max).
  const int first_row = std::max(0, FirstCentreAtOrAfter(y_min));
  const int last_row = std::min(kMaskSide - 1, FirstCentreAtOrAfter(y_max) - 1);

  std::array<double, kMaxPolygonVertices> crossings;
  for (int r = first_row; r <= last_row; ++r) {
    const double yc = r + 0.5;
    // An edge (a, b) crosses the scanline when yc lies in [min(a.y, b.y),
    // max(a.y, b.y)): half-open, so a vertex on the scanline is counted once
    // and horizontal edges never. Crossing: x = a.x + (yc - a.y) (b.x - a.x) / (b.y - a.y).
    int count = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
      const Point2& a = vertices[j];
      const Point2& b = vertices[i];
      if ((a.y <= yc) != (b.y <= yc)) {
        crossings[count++] = a.x + (yc - a.y) * (b.x - a.x) / (b.y - a.y);
      }
    }
    std::sort(crossings.begin(), crossings.begin() + count);
    // Even-odd: fill between crossing pairs; column c is inside when its
    // centre c + 0.5 lies in [x0, x1).
    uint32_t row_bits = 0;
    for (int k = 0; k + 1 < count; k += 2) {
      const int first_col = std::max(0, FirstCentreAtOrAfter(crossings[k]));
      const int last_col = std::min(kMaskSide - 1, FirstCentreAtOrAfter(crossings[k + 1]) - 1);
      if (first_col <= last_col) row_bits |= BitRange(first_col, last_col);
    }
    mask.rows[r] = row_bits;
  }
  return mask;
}

}  // namespace deepsweep::ml
