#include "client/plot.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

// Twelve series get twelve different colours (none yellow), the thirteenth
// the first colour dashed; a long legend moves to the right of the plot.
TEST(BuildFigureTest, PaletteStaysDistinctAndLongLegendsGoOutside) {
  std::vector<TrialSeries> many;
  for (int i = 0; i < 13; ++i) many.push_back(Series(absl::StrCat("trial ", i)));
  auto figure = BuildFigure(FigureKind::kTestError, many, {});
  ASSERT_TRUE(figure.ok()) << figure.status();
  std::set<std::string> colours;
  for (size_t at = figure->script.find("lc rgb '"); at != std::string::npos;
       at = figure->script.find("lc rgb '", at + 1)) {
    colours.insert(figure->script.substr(at + 8, 7));
  }
  EXPECT_EQ(colours.size(), 12u);
  EXPECT_EQ(colours.count("#FFFF00") + colours.count("#F0E442"), 0u);  // no yellow
  EXPECT_THAT(figure->script, HasSubstr("'trial13.dat' using 1:2 with linespoints lw 2 pt 7 ps "
                                        "0.5 lc rgb '#0072B2' dt 2 title 'trial 12'"));
  EXPECT_THAT(figure->script, HasSubstr("set key outside right top vertical"));
  auto few = BuildFigure(FigureKind::kTestError,
                         std::vector<TrialSeries>(many.begin(), many.begin() + 3), {});
  ASSERT_TRUE(few.ok());
  EXPECT_THAT(few->script, HasSubstr("set key below"));
  // Long labels (five configurations named by their fields) go below, one per
  // line, whatever their number: to the right they leave the plot a sliver.
  std::vector<TrialSeries> configurations;
  for (int i = 0; i < 5; ++i) {
    configurations.push_back(
        Series(absl::StrCat("activation=softsign init=normalized learning_rate=0.0", i)));
  }
  auto long_labels = BuildFigure(FigureKind::kTestError, configurations, {});
  ASSERT_TRUE(long_labels.ok());
  EXPECT_THAT(long_labels->script, HasSubstr("set key below vertical maxcols 1"));
}

// --x updates and epochs: the same points on another axis; epochs need the
// training-set size.
TEST(BuildFigureTest, XAxisInUpdatesOrEpochs) {
  TrialSeries trial = Series("t", SampleCurve{.checkpoints = 2});
  FigureOptions options;
  options.x_axis = XAxis::kUpdates;
  auto figure = BuildFigure(FigureKind::kTestError, {trial}, options);
  ASSERT_TRUE(figure.ok()) << figure.status();
  EXPECT_EQ(*DataFile(*figure, "trial1.dat"),
            "# updates test_error\n0 0.8999999999999999\n1000 0.2\n");
  EXPECT_THAT(figure->script, HasSubstr("set xlabel 'updates'"));
  options.x_axis = XAxis::kEpochs;
  EXPECT_EQ(BuildFigure(FigureKind::kTestError, {trial}, options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  trial.epoch_examples = 4000;
  figure = BuildFigure(FigureKind::kTestError, {trial}, options);
  ASSERT_TRUE(figure.ok()) << figure.status();
  EXPECT_EQ(*DataFile(*figure, "trial1.dat"),
            "# epochs test_error\n0 0.8999999999999999\n2.5 0.2\n");
}

// --bands: seeds of one configuration become their mean and the Student-t
// interval of that mean at every step they share.
TEST(BuildFigureTest, BandsAreTheMeanAndConfidenceIntervalAcrossSeeds) {
  std::vector<TrialSeries> trials;
  for (double final_error : {0.2, 0.3, 0.4}) {
    TrialSeries seed = Series("s", SampleCurve{.checkpoints = 2});
    seed.group = "tanh";
    seed.checkpoints.back().test_error = final_error;
    trials.push_back(seed);
  }
  TrialSeries other = Series("s", SampleCurve{.checkpoints = 2});
  other.group = "sigmoid";
  trials.push_back(other);
  FigureOptions options;
  options.bands = true;
  auto figure = BuildFigure(FigureKind::kTestError, trials, options);
  ASSERT_TRUE(figure.ok()) << figure.status();
  // Step 1000: mean 0.3, std 0.1, half-width t(0.975, 2) * 0.1 / sqrt(3).
  const double half = 4.302652729749464 * 0.1 / std::sqrt(3.0);
  const std::string& group1 = *DataFile(*figure, "group1.dat");
  std::vector<std::string> lines = absl::StrSplit(group1, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << group1;
  std::vector<std::string> last = absl::StrSplit(lines[2], ' ');
  ASSERT_EQ(last.size(), 4u);
  EXPECT_EQ(last[0], "10000");
  EXPECT_NEAR(std::stod(last[1]), 0.3, 1e-15);
  EXPECT_NEAR(std::stod(last[2]), 0.3 - half, 1e-12);
  EXPECT_NEAR(std::stod(last[3]), 0.3 + half, 1e-12);
  // A group of one has no band: low = high = mean.
  EXPECT_EQ(*DataFile(*figure, "group2.dat"),
            "# examples_seen mean ci_low ci_high\n0 0.8999999999999999 0.8999999999999999 "
            "0.8999999999999999\n10000 0.2 0.2 0.2\n");
  EXPECT_THAT(figure->script, HasSubstr("with filledcurves"));
  EXPECT_THAT(figure->script, HasSubstr("title 'tanh (n=3)'"));
}

class RenderFigureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("deepsweep-plot-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(RenderFigureTest, GnuplotDrawsEveryKind) {
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
    ASSERT_TRUE(RenderFigure(*figure, png).ok()) << FigureKindName(kind);
    const PngHeader header = ReadPngHeader(png);
    EXPECT_TRUE(header.valid) << png;
    EXPECT_EQ(header.width, 640u);
    EXPECT_EQ(header.height, 480u);
  }
}

std::string FileStart(const std::filesystem::path& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string start(bytes, '\0');
  in.read(start.data(), static_cast<std::streamsize>(bytes));
  start.resize(static_cast<size_t>(in.gcount()));
  return start;
}

// The extension picks the terminal: a real SVG and a real PDF, never a PNG
// under another name; an extension gnuplot is not asked for is an error.
TEST_F(RenderFigureTest, ExtensionChoosesTheFormat) {
  const std::vector<TrialSeries> two = {Series("tanh"), Series("sigmoid")};
  auto figure = BuildFigure(FigureKind::kTestError, two, {});
  ASSERT_TRUE(figure.ok()) << figure.status();
  ASSERT_TRUE(RenderFigure(*figure, (dir_ / "f.svg").string()).ok());
  const std::string svg = FileStart(dir_ / "f.svg", 4096);
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, HasSubstr("width=\"1000\" height=\"700\""));
  ASSERT_TRUE(RenderFigure(*figure, (dir_ / "F.PDF").string()).ok());
  EXPECT_EQ(FileStart(dir_ / "F.PDF", 5), "%PDF-");
  for (const char* name : {"f.jpg", "f", "f.png.txt"}) {
    const absl::Status status = RenderFigure(*figure, (dir_ / name).string());
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(status.message(), HasSubstr(".png, .svg or .pdf")) << name;
    EXPECT_FALSE(std::filesystem::exists(dir_ / name)) << name;
  }
}

TEST_F(RenderFigureTest, KeepsScriptInAGivenWorkDir) {
  const std::vector<TrialSeries> one = {Series("t")};
  auto figure = BuildFigure(FigureKind::kTestError, one, {});
  ASSERT_TRUE(figure.ok());
  GnuplotOptions options;
  options.work_dir = (dir_ / "work").string();
  ASSERT_TRUE(RenderFigure(*figure, (dir_ / "out.png").string(), options).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "work" / "figure.gp"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "work" / "trial1.dat"));
}

TEST_F(RenderFigureTest, ClearErrors) {
  const std::vector<TrialSeries> one = {Series("t")};
  auto figure = BuildFigure(FigureKind::kTestError, one, {});
  ASSERT_TRUE(figure.ok());
  const std::string png = (dir_ / "out.png").string();

  GnuplotOptions missing;
  missing.program = "/nonexistent/gnuplot";
  auto status = RenderFigure(*figure, png, missing);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not found"));

  GnuplotFigure broken = *figure;
  broken.script = "plot 'no-such-file.dat' using 1:2\n";
  status = RenderFigure(broken, png);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("gnuplot failed"));
  EXPECT_THAT(status.message(),
              HasSubstr("warning: Cannot find or open file \"no-such-file.dat\""));
  EXPECT_THAT(status.message(), HasSubstr("No data in plot"));

  status = RenderFigure(*figure, (dir_ / "no-dir" / "out.png").string());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("does not exist"));
}

}  // namespace
}  // namespace deepsweep::client
