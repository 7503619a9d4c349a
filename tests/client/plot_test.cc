#include "client/plot.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/sample_checkpoints.h"

namespace deepsweep::client {
namespace {

using ::testing::HasSubstr;
using testing::MakeCheckpoints;
using testing::SampleCurve;

TrialSeries Series(std::string label, SampleCurve curve = {}) {
  return TrialSeries{std::move(label), MakeCheckpoints(curve)};
}

const std::string* DataFile(const GnuplotFigure& figure, std::string_view name) {
  for (const auto& [file, contents] : figure.data_files) {
    if (file == name) return &contents;
  }
  return nullptr;
}

TEST(FigureKindTest, NamesRoundTrip) {
  for (std::string name :
       {"activations", "percentiles", "histogram", "gradient-std", "test-error", "jacobian"}) {
    auto kind = ParseFigureKind(name);
    ASSERT_TRUE(kind.ok()) << name;
    EXPECT_EQ(FigureKindName(*kind), name);
  }
  EXPECT_EQ(ParseFigureKind("pie").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BuildFigureTest, ActivationsHaveOneErrorBarSeriesPerLayer) {
  SampleCurve curve;
  curve.depth = 2;
  curve.checkpoints = 3;
  const std::vector<TrialSeries> trials = {Series("#1 sigmoid", curve)};
  auto figure = BuildFigure(FigureKind::kActivations, trials, {});
  ASSERT_TRUE(figure.ok()) << figure.status();
  ASSERT_EQ(figure->data_files.size(), 2u);
  // Layer 2: mean = 0.2 * i / 2, std = 0.2, p02/p98 = mean -/+ 0.4.
  EXPECT_EQ(*DataFile(*figure, "layer2.dat"),
            "# examples_seen mean std p02 p50 p98\n"
            "0 0 0.2 -0.4 0 0.4\n"
            "10000 0.1 0.2 -0.30000000000000004 0.1 0.5\n"
            "20000 0.2 0.2 -0.2 0.2 0.6000000000000001\n");
  EXPECT_THAT(figure->script, HasSubstr("'layer1.dat' using 1:2:3 with yerrorlines"));
  EXPECT_THAT(figure->script, HasSubstr("'layer2.dat' using 1:2:3 with yerrorlines"));
  EXPECT_THAT(figure->script, HasSubstr("set title 'Mean and std (bars) of activation values per "
                                        "layer — #1 sigmoid'"));
}

TEST(BuildFigureTest, PercentilesPlotP98AsPointsAndStdAsLines) {
  const std::vector<TrialSeries> trials = {Series("t")};
  auto figure = BuildFigure(FigureKind::kPercentiles, trials, {});
  ASSERT_TRUE(figure.ok());
  EXPECT_EQ(figure->data_files.size(), 4u);
  EXPECT_THAT(figure->script, HasSubstr("'layer3.dat' using 1:6 with points"));
  EXPECT_THAT(figure->script, HasSubstr("'layer3.dat' using 1:3 with linespoints"));
}

TEST(BuildFigureTest, GradientStdDefaultsToWeightGradients) {
  SampleCurve curve;
  curve.depth = 1;
  curve.checkpoints = 2;
  const std::vector<TrialSeries> trials = {Series("t", curve)};
  auto figure = BuildFigure(FigureKind::kGradientStd, trials, {});
  ASSERT_TRUE(figure.ok());
  // weight_grad std of layer 1 = 0.002.
  EXPECT_EQ(*DataFile(*figure, "layer1.dat"),
            "# examples_seen mean std p02 p50 p98\n"
            "0 0 0.002 -0.004 0 0.004\n"
            "10000 0 0.002 -0.004 0 0.004\n");
  EXPECT_THAT(figure->script, HasSubstr("Standard deviation of weight gradients"));
  FigureOptions backprop;
  backprop.quantity = LayerQuantity::kBackpropGrad;
  backprop.log_y = true;
  auto other = BuildFigure(FigureKind::kGradientStd, trials, backprop);
  ASSERT_TRUE(other.ok());
  EXPECT_THAT(*DataFile(*other, "layer1.dat"), HasSubstr("0 0 0.001 "));
  EXPECT_THAT(other->script, HasSubstr("set logscale y"));
}

TEST(BuildFigureTest, HistogramIsADensityAtTheChosenCheckpoint) {
  SampleCurve curve;
  curve.depth = 1;
  curve.histogram_bins = 4;
  const std::vector<TrialSeries> trials = {Series("t", curve)};
  FigureOptions options;
  options.step = 2500;  // checkpoints at 0, 1000, ..., 5000: picks 2000
  auto figure = BuildFigure(FigureKind::kHistogram, trials, options);
  ASSERT_TRUE(figure.ok()) << figure.status();
  // Step 2000 = checkpoint 2 of 6: mean 0.04, std 0.15, triangle half-width
  // 0.3 over bins centred -0.75, -0.25, 0.25, 0.75: only -0.25 and 0.25 are
  // inside, with heights 1 - 0.29/0.3 and 1 - 0.21/0.3 (sum 0.3333), so
  // fractions 0.1 and 0.9 and densities (width 0.5) 0.2 and 1.8.
  const std::string* data = DataFile(*figure, "layer1.dat");
  ASSERT_NE(data, nullptr);
  std::vector<double> density;
  std::istringstream lines(*data);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "# bin_center density");
  double centre = 0, value = 0;
  while (lines >> centre >> value) density.push_back(value);
  ASSERT_EQ(density.size(), 4u);
  EXPECT_NEAR(density[0], 0, 1e-6);
  EXPECT_NEAR(density[1], 0.2, 1e-6);
  EXPECT_NEAR(density[2], 1.8, 1e-6);
  EXPECT_NEAR(density[3], 0, 1e-6);
  EXPECT_THAT(figure->script, HasSubstr("at step 2000"));

  options.step = -1;
  EXPECT_THAT(BuildFigure(FigureKind::kHistogram, trials, options).status().message(),
              HasSubstr("no checkpoint at or before step -1"));
}

TEST(BuildFigureTest, TestErrorHasOneLinePerTrial) {
  SampleCurve a;
  a.checkpoints = 2;
  SampleCurve b = a;
  b.final_test_error = 0.5;
  const std::vector<TrialSeries> trials = {Series("tanh N", a), Series("sigmoid", b)};
  auto figure = BuildFigure(FigureKind::kTestError, trials, {});
  ASSERT_TRUE(figure.ok());
  EXPECT_EQ(*DataFile(*figure, "trial1.dat"),
            "# examples_seen test_error\n0 0.8999999999999999\n10000 0.2\n");
  EXPECT_EQ(*DataFile(*figure, "trial2.dat"), "# examples_seen test_error\n0 0.9\n10000 0.5\n");
  EXPECT_THAT(figure->script, HasSubstr("title 'tanh N'"));
  EXPECT_THAT(figure->script, HasSubstr("title 'sigmoid'"));
}

TEST(BuildFigureTest, JacobianPerLayerPerTrial) {
  SampleCurve curve;
  curve.depth = 3;
  const std::vector<TrialSeries> trials = {Series("a", curve), Series("b's", curve)};
  auto figure = BuildFigure(FigureKind::kJacobian, trials, {});
  ASSERT_TRUE(figure.ok());
  EXPECT_EQ(*DataFile(*figure, "trial2.dat"), "# layer jacobian_sv_mean\n1 0.9\n2 0.8\n3 0.7\n");
  // A quote in a label is doubled inside gnuplot's single-quoted string.
  EXPECT_THAT(figure->script, HasSubstr("title 'b''s (step 5000)'"));
}

TEST(BuildFigureTest, ErrorsNameWhatIsMissing) {
  SampleCurve no_stats;
  no_stats.layer_stats = false;
  const std::vector<TrialSeries> bare = {Series("#4 tanh", no_stats)};
  auto status = BuildFigure(FigureKind::kActivations, bare, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("#4 tanh has no activation statistics"));
  EXPECT_EQ(BuildFigure(FigureKind::kJacobian, bare, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);

  const std::vector<TrialSeries> empty = {TrialSeries{"#5", {}}};
  EXPECT_THAT(BuildFigure(FigureKind::kTestError, empty, {}).status().message(),
              HasSubstr("#5 has no checkpoints"));

  const std::vector<TrialSeries> two = {Series("a"), Series("b")};
  EXPECT_THAT(BuildFigure(FigureKind::kPercentiles, two, {}).status().message(),
              HasSubstr("shows one trial, got 2"));
  EXPECT_EQ(BuildFigure(FigureKind::kTestError, {}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  FigureOptions tiny;
  tiny.width = 10;
  EXPECT_EQ(BuildFigure(FigureKind::kTestError, two, tiny).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// PNG: 8-byte signature, then the IHDR chunk with big-endian width and height.
struct PngHeader {
  bool valid = false;
  uint32_t width = 0;
  uint32_t height = 0;
};

PngHeader ReadPngHeader(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char bytes[24] = {};
  in.read(reinterpret_cast<char*>(bytes), sizeof(bytes));
  PngHeader header;
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  header.valid = in && std::equal(signature, signature + 8, bytes);
  auto be32 = [&](int at) {
    return uint32_t{bytes[at]} << 24 | uint32_t{bytes[at + 1]} << 16 |
           uint32_t{bytes[at + 2]} << 8 | uint32_t{bytes[at + 3]};
  };
  header.width = be32(16);
  header.height = be32(20);
  return header;
}

class RenderPngTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("deepsweep-plot-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(RenderPngTest, GnuplotDrawsEveryKind) {
  const std::vector<TrialSeries> one = {Series("#1 tanh normalized")};
  const std::vector<TrialSeries> two = {Series("#1 tanh N"), Series("#2 sigmoid")};
  for (FigureKind kind :
       {FigureKind::kActivations, FigureKind::kPercentiles, FigureKind::kHistogram,
        FigureKind::kGradientStd, FigureKind::kTestError, FigureKind::kJacobian}) {
    FigureOptions options;
    options.width = 640;
    options.height = 480;
    const bool many = kind == FigureKind::kTestError || kind == FigureKind::kJacobian;
    auto figure = BuildFigure(kind, many ? two : one, options);
    ASSERT_TRUE(figure.ok()) << figure.status();
    const std::string png = (dir_ / (std::string(FigureKindName(kind)) + ".png")).string();
    ASSERT_TRUE(RenderPng(*figure, png).ok()) << FigureKindName(kind);
    const PngHeader header = ReadPngHeader(png);
    EXPECT_TRUE(header.valid) << png;
    EXPECT_EQ(header.width, 640u);
    EXPECT_EQ(header.height, 480u);
  }
}

TEST_F(RenderPngTest, KeepsScriptInAGivenWorkDir) {
  const std::vector<TrialSeries> one = {Series("t")};
  auto figure = BuildFigure(FigureKind::kTestError, one, {});
  ASSERT_TRUE(figure.ok());
  GnuplotOptions options;
  options.work_dir = (dir_ / "work").string();
  ASSERT_TRUE(RenderPng(*figure, (dir_ / "out.png").string(), options).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "work" / "figure.gp"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "work" / "trial1.dat"));
}

TEST_F(RenderPngTest, ClearErrors) {
  const std::vector<TrialSeries> one = {Series("t")};
  auto figure = BuildFigure(FigureKind::kTestError, one, {});
  ASSERT_TRUE(figure.ok());
  const std::string png = (dir_ / "out.png").string();

  GnuplotOptions missing;
  missing.program = "/nonexistent/gnuplot";
  auto status = RenderPng(*figure, png, missing);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not found"));

  GnuplotFigure broken = *figure;
  broken.script = "plot 'no-such-file.dat' using 1:2\n";
  status = RenderPng(broken, png);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("gnuplot failed"));
  EXPECT_THAT(status.message(),
              HasSubstr("warning: Cannot find or open file \"no-such-file.dat\""));
  EXPECT_THAT(status.message(), HasSubstr("No data in plot"));

  status = RenderPng(*figure, (dir_ / "no-dir" / "out.png").string());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("does not exist"));
}

}  // namespace
}  // namespace deepsweep::client
