#include "ml/data/shapeset.h"

#include <array>
#include <cmath>
#include <numbers>
#include <span>

#include "gtest/gtest.h"
#include "ml/random.h"

namespace deepsweep::ml {
namespace {

constexpr int kScenes = 30000;

// Shoelace area of a polygon.
double PolygonArea(std::span<const Point2> v) {
  double twice = 0;
  for (size_t i = 0, j = v.size() - 1; i < v.size(); j = i++) {
    twice += v[j].x * v[i].y - v[i].x * v[j].y;
  }
  return std::abs(twice) / 2;
}

std::span<const Point2> VerticesOf(const Shape& shape) {
  return {shape.vertices.data(), static_cast<size_t>(shape.vertex_count)};
}

TEST(ShapesetTest, ClassFrequenciesMatchThePaper) {
  // Singles 1/2 * 1/3 = 1/6; mixed pairs 1/2 * 2/9 = 1/9; same-shape pairs
  // 1/2 * 1/9 = 1/18. Tolerance: 4.5 binomial standard deviations.
  Rng rng(2010);
  std::array<int, kShapesetClasses> counts{};
  for (int i = 0; i < kScenes; ++i) ++counts[DrawShapesetScene(rng).label];
  const std::array<double, kShapesetClasses> expected = {
      1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 18, 1.0 / 18, 1.0 / 18};
  for (int label = 0; label < kShapesetClasses; ++label) {
    const double p = expected[label];
    const double sigma = std::sqrt(p * (1 - p) / kScenes);
    EXPECT_NEAR(static_cast<double>(counts[label]) / kScenes, p, 4.5 * sigma)
        << ShapesetClassName(label);
  }
}

TEST(ShapesetTest, LabelsNameTheShapesPresent) {
  using enum ShapeKind;
  EXPECT_EQ(ShapesetLabel(kTriangle), 0);
  EXPECT_EQ(ShapesetLabel(kParallelogram), 1);
  EXPECT_EQ(ShapesetLabel(kEllipse), 2);
  EXPECT_EQ(ShapesetLabel(kTriangle, kParallelogram), 3);
  EXPECT_EQ(ShapesetLabel(kParallelogram, kTriangle), 3);
  EXPECT_EQ(ShapesetLabel(kParallelogram, kEllipse), 4);
  EXPECT_EQ(ShapesetLabel(kEllipse, kParallelogram), 4);
  EXPECT_EQ(ShapesetLabel(kTriangle, kEllipse), 5);
  EXPECT_EQ(ShapesetLabel(kEllipse, kTriangle), 5);
  EXPECT_EQ(ShapesetLabel(kTriangle, kTriangle), 6);
  EXPECT_EQ(ShapesetLabel(kParallelogram, kParallelogram), 7);
  EXPECT_EQ(ShapesetLabel(kEllipse, kEllipse), 8);
  EXPECT_EQ(ShapesetClassName(5), "tri+ell");
  EXPECT_EQ(ShapesetClassName(9), "?");

  Rng rng(3);
  for (int i = 0; i < 2000; ++i) {
    const ShapesetScene scene = DrawShapesetScene(rng);
    const int expected = scene.shape_count == 1
                             ? ShapesetLabel(scene.shapes[0].kind)
                             : ShapesetLabel(scene.shapes[0].kind, scene.shapes[1].kind);
    ASSERT_EQ(scene.label, expected);
  }
}

TEST(ShapesetTest, SecondShapeHidesAtMostHalfOfTheFirstOnRenderedMasks) {
  Rng rng(11);
  int pairs = 0;
  int touching = 0;
  for (int i = 0; i < kScenes; ++i) {
    const ShapesetScene scene = DrawShapesetScene(rng);
    if (scene.shape_count != 2) continue;
    ++pairs;
    const int first_area = scene.shapes[0].mask.Area();
    const int hidden = Intersect(scene.shapes[0].mask, scene.shapes[1].mask).Area();
    ASSERT_GT(first_area, 0);
    ASSERT_LE(2 * hidden, first_area) << "scene " << i;
    if (hidden > 0) ++touching;
  }
  EXPECT_GT(pairs, kScenes / 3);
  // Overlap is allowed, not forbidden: some pairs must overlap.
  EXPECT_GT(touching, pairs / 20);
}

TEST(ShapesetTest, PoseFollowsTheGenerator) {
  Rng rng(5);
  for (int i = 0; i < 5000; ++i) {
    const ShapesetScene scene = DrawShapesetScene(rng);
    for (int s = 0; s < scene.shape_count; ++s) {
      const Shape& shape = scene.shapes[s];
      const ShapePose& pose = shape.pose;
      const int n = VertexCount(shape.kind);
      ASSERT_EQ(shape.vertex_count, n);
      ASSERT_GE(pose.pre_rotation, 0);
      ASSERT_LT(pose.pre_rotation, 2 * std::numbers::pi / n);
      ASSERT_GE(pose.scale_y, 0.2 * 32);
      ASSERT_LE(pose.scale_x, 0.8 * 32);
      ASSERT_GE(pose.scale_x, pose.scale_y);
      ASSERT_GE(pose.rotation, 0);
      ASSERT_LT(pose.rotation, 2 * std::numbers::pi);
      for (const Point2& p : VerticesOf(shape)) {
        ASSERT_GE(p.x, -1e-9);
        ASSERT_LE(p.x, 32 + 1e-9);
        ASSERT_GE(p.y, -1e-9);
        ASSERT_LE(p.y, 32 + 1e-9);
      }
      // Undo translation and rotation: vertices must sit on the ellipse
      // (x / (scale_x / 2))^2 + (y / (scale_y / 2))^2 = 1 through which the
      // scaled circle of radius 0.5 passes.
      const double c = std::cos(pose.rotation);
      const double sn = std::sin(pose.rotation);
      for (const Point2& p : VerticesOf(shape)) {
        const double dx = p.x - pose.center_x;
        const double dy = p.y - pose.center_y;
        const double u = (c * dx + sn * dy) / (pose.scale_x / 2);
        const double v = (-sn * dx + c * dy) / (pose.scale_y / 2);
        ASSERT_NEAR(u * u + v * v, 1.0, 1e-9);
      }
      if (shape.kind == ShapeKind::kParallelogram) {
        const auto& v = shape.vertices;
        ASSERT_NEAR(v[1].x - v[0].x, v[2].x - v[3].x, 1e-9);
        ASSERT_NEAR(v[1].y - v[0].y, v[2].y - v[3].y, 1e-9);
      }
      // No anti-aliasing: the mask's pixel count tracks the exact area within
      // what the boundary pixels allow (perimeter <= pi * scale_x).
      const double area = PolygonArea(VerticesOf(shape));
      ASSERT_NEAR(shape.mask.Area(), area, std::numbers::pi * pose.scale_x + 4);
    }
  }
}

TEST(ShapesetTest, RenderedPixelsFollowMasksGreyLevelsAndPolarity) {
  Rng rng(13);
  int dark = 0;
  const int scenes = 5000;
  std::array<float, kShapesetInputDim> pixels;
  for (int i = 0; i < scenes; ++i) {
    const ShapesetScene scene = DrawShapesetScene(rng);
    RenderShapesetScene(scene, pixels.data());
    dark += scene.dark_shapes;
    const bool light_ok = !scene.dark_shapes && scene.background <= 114;
    const bool dark_ok = scene.dark_shapes && scene.background >= 140;
    ASSERT_TRUE(light_ok || dark_ok);
    for (int s = 0; s < scene.shape_count; ++s) {
      const uint8_t g = scene.shapes[s].grey;
      ASSERT_TRUE(scene.dark_shapes ? g <= 114 : g >= 140) << int{g};
    }
    for (int r = 0; r < kShapesetSide; ++r) {
      for (int col = 0; col < kShapesetSide; ++col) {
        const float value = pixels[r * kShapesetSide + col];
        ASSERT_GE(value, -1.0f);
        ASSERT_LE(value, 1.0f);
        uint8_t grey = scene.background;
        if (scene.shapes[0].mask.Test(r, col)) grey = scene.shapes[0].grey;
        if (scene.shape_count == 2 && scene.shapes[1].mask.Test(r, col)) {
          grey = scene.shapes[1].grey;
        }
        ASSERT_FLOAT_EQ(value, grey / 127.5f - 1.0f);
      }
    }
  }
  const double sigma = std::sqrt(0.25 / scenes);
  EXPECT_NEAR(static_cast<double>(dark) / scenes, 0.5, 4.5 * sigma);
}

TEST(ShapesetTest, ByteRenderingStoresTheSameImages) {
  Rng a(21), b(21);
  const Examples floats = GenerateShapesetExamples(a, 100);
  const ImageTable bytes = GenerateShapesetTable(b, 100);
  ASSERT_EQ(bytes.count(), 100);
  EXPECT_EQ(bytes.shape.pixels(), kShapesetInputDim);
  for (int64_t i = 0; i < 100; ++i) {
    ASSERT_EQ(bytes.labels[i], floats.y[i]);
    for (int p = 0; p < kShapesetInputDim; ++p) {
      ASSERT_EQ(ShapesetPixelValue(bytes.image(i)[p]), floats.x(p, i));
      ASSERT_EQ(ShapesetPixelLevels()[bytes.image(i)[p]], floats.x(p, i));
    }
  }
}

TEST(ShapesetTest, GreyLevelsCoverTheirWholeRanges) {
  Rng rng(17);
  int min_background = 255, max_background = 0;
  for (int i = 0; i < 20000; ++i) {
    const ShapesetScene scene = DrawShapesetScene(rng);
    if (scene.dark_shapes) continue;
    min_background = std::min<int>(min_background, scene.background);
    max_background = std::max<int>(max_background, scene.background);
  }
  EXPECT_EQ(min_background, 0);
  EXPECT_EQ(max_background, 114);
}

TEST(ShapesetTest, SameSeedSameImagesOtherSeedOtherImages) {
  Rng a(42), b(42), c(43);
  const Examples x = GenerateShapesetExamples(a, 200);
  const Examples y = GenerateShapesetExamples(b, 200);
  const Examples z = GenerateShapesetExamples(c, 200);
  EXPECT_EQ(x.x, y.x);
  EXPECT_EQ(x.y, y.y);
  EXPECT_NE(x.x, z.x);
}

TEST(ShapesetTest, StreamDrawsFreshScenesEveryBatch) {
  ShapesetStream stream(Rng(9));
  ExampleMatrix first(kShapesetInputDim, 10), second(kShapesetInputDim, 10);
  std::array<int32_t, 10> labels_first, labels_second;
  stream.NextBatch(first, labels_first.data());
  stream.NextBatch(second, labels_second.data());
  EXPECT_NE(first, second);
  // The stream is the same sequence as generating scenes one by one.
  Rng rng(9);
  const Examples expected = GenerateShapesetExamples(rng, 20);
  EXPECT_EQ(first, expected.x.leftCols(10));
  EXPECT_EQ(second, expected.x.rightCols(10));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(labels_second[i], expected.y[10 + i]);
}

}  // namespace
}  // namespace deepsweep::ml
