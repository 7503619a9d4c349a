// Shapeset-3x2: the synthetic dataset of Glorot & Bengio (2010), generated as
// the paper's author did (see shared/reference/glorot2010.md, section 6).
//
// A scene is a 32 x 32 grey image holding one or two filled shapes, each a
// triangle, a parallelogram or an ellipse. Drawing a scene:
//   1. the number of shapes is uniform on {1, 2}; each shape's kind is uniform
//      on the three kinds, independently;
//   2. each shape starts as a regular polygon inscribed in a circle of radius
//      0.5 (3 vertices: triangle, 4: parallelogram, 20: ellipse), gets a
//      pre-rotation uniform within one vertex sector [0, 2 pi / n), then an
//      anisotropic scale with each axis uniform in [0.2, 0.8] x 32 px, the
//      longer one kept as the base (x) axis, then a rotation uniform on
//      [0, 2 pi), then a translation uniform over the positions that keep the
//      whole polygon inside the image;
//   3. the second shape may hide at most 50% of the first one's pixels
//      (measured on the rasterized masks); a second shape that hides more is
//      redrawn (its size and position; kind and orientation stay), up to 50
//      tries. When all 50 fail the first shape is redrawn too and the
//      tries start over, so the scene keeps its class (class frequencies stay
//      exact) and the overlap rule always holds;
//   4. grey levels: background uniform on the integers [0, 114], each shape
//      its own level on [140, 255]; with probability 0.5 the two ranges swap
//      (dark shapes on a light background);
//   5. shapes are filled without anti-aliasing (polygon_raster.h), the second
//      over the first, and pixels are scaled to [-1, 1]: v / 127.5 - 1.
// Labels (9 classes, order of shapes ignored): 0 tri, 1 par, 2 ell,
// 3 tri+par, 4 par+ell, 5 tri+ell, 6 tri+tri, 7 par+par, 8 ell+ell.
// Singles occur with probability 1/6 each, mixed pairs 1/9, same pairs 1/18.
//
// Pixel layout: 1024 floats, row-major (index = row * 32 + column).
// Determinism: every draw comes from the Rng passed in, in a fixed order.
// Thread-safety: functions are pure given their Rng; a ShapesetStream is used
// by one thread.
#ifndef DEEPSWEEP_ML_DATA_SHAPESET_H_
#define DEEPSWEEP_ML_DATA_SHAPESET_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "ml/data/epoch_stream.h"
#include "ml/data/image_set.h"
#include "ml/data/polygon_raster.h"
#include "ml/dataset.h"
#include "ml/random.h"

namespace deepsweep::ml {

inline constexpr int kShapesetSide = 32;
inline constexpr int kShapesetInputDim = kShapesetSide * kShapesetSide;
inline constexpr int kShapesetClasses = 9;
// Tries for the second shape before the first one is redrawn.
inline constexpr int kShapesetOverlapTries = 50;
// Largest fraction of the first shape's pixels the second may cover.
inline constexpr double kShapesetMaxHiddenFraction = 0.5;

enum class ShapeKind : uint8_t { kTriangle = 0, kParallelogram = 1, kEllipse = 2 };

// 3, 4 or 20.
int VertexCount(ShapeKind kind);

// The random draws that place one shape.
struct ShapePose {
  double pre_rotation = 0;  // radians, in [0, 2 pi / VertexCount)
  double scale_x = 0;       // pixels, in [6.4, 25.6]; scale_x >= scale_y
  double scale_y = 0;       // pixels, in [6.4, 25.6]
  double rotation = 0;      // radians, in [0, 2 pi)
  double center_x = 0;      // translation of the circle's centre, pixels
  double center_y = 0;
};

struct Shape {
  ShapeKind kind = ShapeKind::kTriangle;
  ShapePose pose;
  int vertex_count = 0;
  std::array<Point2, 20> vertices;  // image coordinates, first vertex_count used
  PixelMask mask;                   // rasterized polygon (before occlusion)
  uint8_t grey = 0;                 // 0..255
};

struct ShapesetScene {
  int label = 0;        // 0..8, see above
  int shape_count = 1;  // 1 or 2; shapes[1] is meaningful only when 2
  std::array<Shape, 2> shapes;
  uint8_t background = 0;    // 0..255
  bool dark_shapes = false;  // true when the grey ranges were swapped
};

// The class id of one shape alone, or of an unordered pair.
int ShapesetLabel(ShapeKind only);
int ShapesetLabel(ShapeKind first, ShapeKind second);
// "tri", "par", "ell", "tri+par", "par+ell", "tri+ell", "tri+tri", "par+par",
// "ell+ell"; "?" outside [0, 9).
std::string_view ShapesetClassName(int label);

// Draws one scene (geometry, masks, grey levels, label) from `rng`.
ShapesetScene DrawShapesetScene(Rng& rng);

// Grey level (0..255) to input value: v / 127.5 - 1, in [-1, 1].
inline float ShapesetPixelValue(uint8_t grey) { return static_cast<float>(grey) / 127.5f - 1.0f; }
// ShapesetPixelValue for every byte, for ImageSource over stored scenes.
const PixelLevels& ShapesetPixelLevels();

// Writes the scene's 1024 pixels, in [-1, 1], to `pixels` (row-major).
void RenderShapesetScene(const ShapesetScene& scene, float* pixels);
// The same scene as 1024 grey levels (0..255): a quarter of the memory, for
// fixed sets kept for a whole training run.
void RenderShapesetSceneBytes(const ShapesetScene& scene, uint8_t* pixels);

// `count` fresh scenes stored as grey levels (32 x 32 x 1) with labels.
ImageTable GenerateShapesetTable(Rng& rng, int64_t count);

// `count` fresh scenes rendered into a 1024 x count matrix with labels.
Examples GenerateShapesetExamples(Rng& rng, int64_t count);

// The paper's online training stream: every example of every batch is a fresh
// scene drawn from the stream's own Rng.
class ShapesetStream final : public TrainingStream {
 public:
  explicit ShapesetStream(Rng rng) : rng_(rng) {}
  int input_dim() const override { return kShapesetInputDim; }
  int num_classes() const override { return kShapesetClasses; }
  void NextBatch(Eigen::Ref<ExampleMatrix> x, int32_t* y) override;
  void SaveState(ByteWriter& out) const override { rng_.Save(out); }
  void RestoreState(ByteReader& in) override { rng_.Restore(in); }

 private:
  Rng rng_;
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_SHAPESET_H_
