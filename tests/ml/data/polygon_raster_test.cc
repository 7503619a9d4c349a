#include "ml/data/polygon_raster.h"

#include <vector>

#include "gtest/gtest.h"
#include "ml/random.h"

namespace deepsweep::ml {
namespace {

// Reference: even-odd ray casting at one point, independent of the scanline
// code.
bool Inside(const std::vector<Point2>& polygon, double x, double y) {
  bool inside = false;
  for (size_t i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
    const Point2& a = polygon[j];
    const Point2& b = polygon[i];
    if ((a.y > y) != (b.y > y) && x < a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y)) {
      inside = !inside;
    }
  }
  return inside;
}

TEST(PolygonRasterTest, AxisAlignedRectangleCoversExactlyItsPixelCentres) {
  const std::vector<Point2> rect = {{4, 2}, {10, 2}, {10, 7}, {4, 7}};
  const PixelMask mask = FillPolygon(rect);
  EXPECT_EQ(mask.Area(), 6 * 5);
  for (int r = 0; r < kMaskSide; ++r) {
    for (int c = 0; c < kMaskSide; ++c) {
      EXPECT_EQ(mask.Test(r, c), r >= 2 && r < 7 && c >= 4 && c < 10) << r << "," << c;
    }
  }
}

TEST(PolygonRasterTest, MatchesPointInPolygonOnRandomPolygons) {
  Rng rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    // Random (often self-intersecting) polygons reaching past the borders.
    std::vector<Point2> polygon(3 + rng.UniformInt(18));
    for (Point2& p : polygon) p = {rng.Uniform(-8, 40), rng.Uniform(-8, 40)};
    const PixelMask mask = FillPolygon(polygon);
    for (int r = 0; r < kMaskSide; ++r) {
      for (int c = 0; c < kMaskSide; ++c) {
        ASSERT_EQ(mask.Test(r, c), Inside(polygon, c + 0.5, r + 0.5))
            << "trial " << trial << " pixel " << r << "," << c;
      }
    }
  }
}

TEST(PolygonRasterTest, PolygonsSharingAnEdgeNeverShareAPixel) {
  // A square split along its diagonal; the diagonal passes through pixel
  // centres, which must go to exactly one half.
  const std::vector<Point2> lower = {{3.5, 3.5}, {20.5, 3.5}, {20.5, 20.5}};
  const std::vector<Point2> upper = {{3.5, 3.5}, {20.5, 20.5}, {3.5, 20.5}};
  const std::vector<Point2> square = {{3.5, 3.5}, {20.5, 3.5}, {20.5, 20.5}, {3.5, 20.5}};
  const PixelMask a = FillPolygon(lower);
  const PixelMask b = FillPolygon(upper);
  EXPECT_EQ(Intersect(a, b).Area(), 0);
  EXPECT_EQ(a.Area() + b.Area(), FillPolygon(square).Area());
}

TEST(PolygonRasterTest, ClipsAndSurvivesFarAwayVertices) {
  const std::vector<Point2> huge = {{-1e12, -1e12}, {1e12, -1e12}, {1e12, 1e12}, {-1e12, 1e12}};
  EXPECT_EQ(FillPolygon(huge).Area(), kMaskSide * kMaskSide);
  const std::vector<Point2> outside = {{40, 40}, {50, 40}, {45, 50}};
  EXPECT_EQ(FillPolygon(outside).Area(), 0);
  const std::vector<Point2> degenerate = {{1, 1}, {2, 2}};
  EXPECT_EQ(FillPolygon(degenerate).Area(), 0);
}

}  // namespace
}  // namespace deepsweep::ml
