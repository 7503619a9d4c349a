#include "ml/data/shapeset.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <span>

namespace deepsweep::ml {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kMinScale = 0.2 * kShapesetSide;
constexpr double kMaxScale = 0.8 * kShapesetSide;
constexpr int kBackgroundMax = 114;  // grey levels [0, 114]
constexpr int kShapeGreyMin = 140;   // grey levels [140, 255]

// Unit-circle directions of a regular n-gon's vertices, (cos 2 pi k / n,
// sin 2 pi k / n), computed once per kind.
struct RegularPolygon {
  int n = 0;
  std::array<double, 20> cos_k{};
  std::array<double, 20> sin_k{};

  explicit RegularPolygon(int sides) : n(sides) {
    for (int k = 0; k < n; ++k) {
      cos_k[k] = std::cos(kTwoPi * k / n);
      sin_k[k] = std::sin(kTwoPi * k / n);
    }
  }
};

const RegularPolygon& RegularPolygonOf(ShapeKind kind) {
  static const RegularPolygon kTriangle(3);
  static const RegularPolygon kSquare(4);
  static const RegularPolygon kIcosagon(20);
  switch (kind) {
    case ShapeKind::kTriangle:
      return kTriangle;
    case ShapeKind::kParallelogram:
      return kSquare;
    case ShapeKind::kEllipse:
      break;
  }
  return kIcosagon;
}

// Draws the orientation of `shape.kind`: the pre-rotation within one vertex
// sector and the rotation over the full circle.
void DrawOrientation(Rng& rng, Shape& shape) {
  shape.pose.pre_rotation = rng.Uniform(0.0, kTwoPi / RegularPolygonOf(shape.kind).n);
  shape.pose.rotation = rng.Uniform(0.0, kTwoPi);
}

// Draws the size and position of a shape whose orientation is set, and fills
// in its vertices and mask.
void DrawSizeAndPosition(Rng& rng, Shape& shape) {
  const RegularPolygon& polygon = RegularPolygonOf(shape.kind);
  ShapePose& pose = shape.pose;
  const double scale_a = rng.Uniform(kMinScale, kMaxScale);
  const double scale_b = rng.Uniform(kMinScale, kMaxScale);
  pose.scale_x = std::max(scale_a, scale_b);
  pose.scale_y = std::min(scale_a, scale_b);

  // Vertex k, centred at the origin:
  //   p_k = R(rotation) diag(scale_x, scale_y) 0.5 (cos(t_k + pre), sin(t_k + pre)),
  // with t_k = 2 pi k / n and the angle sum expanded so only two sin/cos
  // pairs are evaluated per shape.
  const double cos_pre = std::cos(pose.pre_rotation);
  const double sin_pre = std::sin(pose.pre_rotation);
  const double cos_rot = std::cos(pose.rotation);
  const double sin_rot = std::sin(pose.rotation);
  double min_x = 0, max_x = 0, min_y = 0, max_y = 0;
  shape.vertex_count = polygon.n;
  for (int k = 0; k < polygon.n; ++k) {
    const double ux = 0.5 * (polygon.cos_k[k] * cos_pre - polygon.sin_k[k] * sin_pre);
    const double uy = 0.5 * (polygon.sin_k[k] * cos_pre + polygon.cos_k[k] * sin_pre);
    const double sx = pose.scale_x * ux;
    const double sy = pose.scale_y * uy;
    Point2& p = shape.vertices[k];
    p.x = cos_rot * sx - sin_rot * sy;
    p.y = sin_rot * sx + cos_rot * sy;
    if (k == 0) {
      min_x = max_x = p.x;
      min_y = max_y = p.y;
    } else {
      min_x = std::min(min_x, p.x);
      max_x = std::max(max_x, p.x);
      min_y = std::min(min_y, p.y);
      max_y = std::max(max_y, p.y);
    }
  }
  // The polygon stays inside [0, 32]^2 for centre_x in [-min_x, 32 - max_x];
  // its extent is at most 0.8 * 32 px, so that interval is never empty.
  pose.center_x = rng.Uniform(-min_x, kShapesetSide - max_x);
  pose.center_y = rng.Uniform(-min_y, kShapesetSide - max_y);
  for (int k = 0; k < polygon.n; ++k) {
    shape.vertices[k].x += pose.center_x;
    shape.vertices[k].y += pose.center_y;
  }
  shape.mask = FillPolygon(std::span<const Point2>(shape.vertices.data(), polygon.n));
}

// True when `second`, drawn over `first`, hides at most half of its pixels.
bool OverlapAllowed(const Shape& first, const Shape& second) {
  const int hidden = Intersect(first.mask, second.mask).Area();
  return hidden <= kShapesetMaxHiddenFraction * first.mask.Area();
}

}  // namespace

int VertexCount(ShapeKind kind) { return RegularPolygonOf(kind).n; }

int ShapesetLabel(ShapeKind only) { return static_cast<int>(only); }

int ShapesetLabel(ShapeKind first, ShapeKind second) {
  if (first == second) return 6 + static_cast<int>(first);
  const ShapeKind lo = std::min(first, second);
  const ShapeKind hi = std::max(first, second);
  if (lo == ShapeKind::kTriangle && hi == ShapeKind::kParallelogram) return 3;
  if (lo == ShapeKind::kParallelogram && hi == ShapeKind::kEllipse) return 4;
  return 5;  // triangle + ellipse
}

std::string_view ShapesetClassName(int label) {
  static constexpr std::array<std::string_view, kShapesetClasses> kNames = {
      "tri", "par", "ell", "tri+par", "par+ell", "tri+ell", "tri+tri", "par+par", "ell+ell"};
  if (label < 0 || label >= kShapesetClasses) return "?";
  return kNames[label];
}

ShapesetScene DrawShapesetScene(Rng& rng) {
  ShapesetScene scene;
  scene.shape_count = 1 + static_cast<int>(rng.UniformInt(2));
  for (int i = 0; i < scene.shape_count; ++i) {
    scene.shapes[i].kind = static_cast<ShapeKind>(rng.UniformInt(3));
  }
  scene.dark_shapes = rng.UniformInt(2) == 1;
  const int low_levels = kBackgroundMax + 1;    // [0, 114]
  const int high_levels = 256 - kShapeGreyMin;  // [140, 255]
  if (scene.dark_shapes) {
    scene.background = static_cast<uint8_t>(kShapeGreyMin + rng.UniformInt(high_levels));
    for (int i = 0; i < scene.shape_count; ++i) {
      scene.shapes[i].grey = static_cast<uint8_t>(rng.UniformInt(low_levels));
    }
  } else {
    scene.background = static_cast<uint8_t>(rng.UniformInt(low_levels));
    for (int i = 0; i < scene.shape_count; ++i) {
      scene.shapes[i].grey = static_cast<uint8_t>(kShapeGreyMin + rng.UniformInt(high_levels));
    }
  }

  Shape& first = scene.shapes[0];
  if (scene.shape_count == 1) {
    DrawOrientation(rng, first);
    DrawSizeAndPosition(rng, first);
    scene.label = ShapesetLabel(first.kind);
    return scene;
  }
  Shape& second = scene.shapes[1];
  scene.label = ShapesetLabel(first.kind, second.kind);
  for (;;) {
    DrawOrientation(rng, first);
    DrawSizeAndPosition(rng, first);
    DrawOrientation(rng, second);
    for (int attempt = 0; attempt < kShapesetOverlapTries; ++attempt) {
      DrawSizeAndPosition(rng, second);
      if (OverlapAllowed(first, second)) return scene;
    }
  }
}

namespace {

// Paints the scene: background, then the first shape, then the second over
// it, each pixel converted by `level` (grey byte -> output value).
template <typename Pixel, typename Level>
void Paint(const ShapesetScene& scene, Pixel* pixels, Level level) {
  const Pixel background = level(scene.background);
  const Pixel first_grey = level(scene.shapes[0].grey);
  const Pixel second_grey = level(scene.shapes[1].grey);
  const PixelMask& first = scene.shapes[0].mask;
  static const PixelMask kEmpty;
  const PixelMask& second = scene.shape_count == 2 ? scene.shapes[1].mask : kEmpty;
  for (int r = 0; r < kShapesetSide; ++r) {
    const uint32_t first_row = first.rows[r];
    const uint32_t second_row = second.rows[r];
    Pixel* out = pixels + r * kShapesetSide;
    for (int c = 0; c < kShapesetSide; ++c) {
      const bool in_second = (second_row >> c) & 1u;
      const bool in_first = (first_row >> c) & 1u;
      out[c] = in_second ? second_grey : (in_first ? first_grey : background);
    }
  }
}

}  // namespace

const PixelLevels& ShapesetPixelLevels() {
  static const PixelLevels kLevels = [] {
    PixelLevels levels;
    for (int v = 0; v < 256; ++v) levels[v] = ShapesetPixelValue(static_cast<uint8_t>(v));
    return levels;
  }();
  return kLevels;
}

void RenderShapesetScene(const ShapesetScene& scene, float* pixels) {
  Paint(scene, pixels, ShapesetPixelValue);
}

void RenderShapesetSceneBytes(const ShapesetScene& scene, uint8_t* pixels) {
  Paint(scene, pixels, [](uint8_t grey) { return grey; });
}

ImageTable GenerateShapesetTable(Rng& rng, int64_t count) {
  ImageTable table;
  table.shape = ImageShape{.rows = kShapesetSide, .cols = kShapesetSide, .channels = 1};
  table.pixels.resize(static_cast<size_t>(count) * kShapesetInputDim);
  table.labels.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const ShapesetScene scene = DrawShapesetScene(rng);
    RenderShapesetSceneBytes(scene, table.pixels.data() + i * kShapesetInputDim);
    table.labels[i] = scene.label;
  }
  return table;
}

Examples GenerateShapesetExamples(Rng& rng, int64_t count) {
  Examples examples;
  examples.x.resize(kShapesetInputDim, count);
  examples.y.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    const ShapesetScene scene = DrawShapesetScene(rng);
    RenderShapesetScene(scene, examples.x.col(i).data());
    examples.y[i] = scene.label;
  }
  return examples;
}

void ShapesetStream::NextBatch(Eigen::Ref<ExampleMatrix> x, int32_t* y) {
  for (Eigen::Index i = 0; i < x.cols(); ++i) {
    const ShapesetScene scene = DrawShapesetScene(rng_);
    RenderShapesetScene(scene, x.col(i).data());
    y[i] = scene.label;
  }
}

}  // namespace deepsweep::ml
