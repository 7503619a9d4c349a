// Polygon rasterizer for 32 x 32 images, written for Shapeset-3x2.
//
// A PixelMask holds one 32-bit word per image row: bit c of rows[r] is the
// pixel in row r, column c. Polygons are filled without anti-aliasing: pixel
// (r, c) is set exactly when its centre (x = c + 0.5, y = r + 0.5) lies inside
// the polygon by the even-odd rule. Image coordinates: x grows to the right
// along a row, y grows downwards; the image covers [0, 32) x [0, 32).
// A centre lying exactly on an edge counts as inside when the polygon extends
// to its right or below it (half-open spans), so two polygons sharing an edge
// never both claim a pixel.
//
// Thread-safety: pure functions on values.
#ifndef DEEPSWEEP_ML_DATA_POLYGON_RASTER_H_
#define DEEPSWEEP_ML_DATA_POLYGON_RASTER_H_

#include <array>
#include <cstdint>
#include <span>

namespace deepsweep::ml {

inline constexpr int kMaskSide = 32;
// FillPolygon accepts polygons with at most this many vertices.
inline constexpr int kMaxPolygonVertices = 64;

struct Point2 {
  double x = 0;  // column direction, pixels
  double y = 0;  // row direction, pixels
};

struct PixelMask {
  std::array<uint32_t, kMaskSide> rows{};

  bool Test(int row, int col) const { return (rows[row] >> col) & 1u; }
  // Number of set pixels.
  int Area() const;
};

// Pixels set in both masks.
PixelMask Intersect(const PixelMask& a, const PixelMask& b);

// Rasterizes a closed polygon (the edge from the last vertex back to the
// first is implied). Precondition: vertices.size() <= kMaxPolygonVertices.
// Parts outside the image are clipped.
PixelMask FillPolygon(std::span<const Point2> vertices);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_POLYGON_RASTER_H_
