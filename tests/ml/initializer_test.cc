#include "ml/initializer.h"

#include <cmath>
#include <string>
#include <tuple>
#include <utility>

#include "gtest/gtest.h"

namespace deepsweep::ml {
namespace {

constexpr Init kAllInits[] = {Init::kStandard,     Init::kNormalized,  Init::kGlorotNormal,
                              Init::kLecunUniform, Init::kLecunNormal, Init::kHeUniform,
                              Init::kHeNormal,     Init::kOrthogonal};

struct Moments {
  double mean = 0, var = 0, kurtosis = 0, max_abs = 0;
};

Moments Measure(const Eigen::MatrixXd& w) {
  Moments m;
  const double n = static_cast<double>(w.size());
  m.mean = w.mean();
  const Eigen::ArrayXXd c = w.array() - m.mean;
  m.var = c.square().sum() / n;
  m.kurtosis = c.square().square().sum() / n / (m.var * m.var);
  m.max_abs = w.cwiseAbs().maxCoeff();
  return m;
}

// Width 1000: a square 1000 x 1000 layer and a 1000 x 400 one (fan_out x
// fan_in), so fan_in and fan_out formulas are told apart.
class InitVarianceTest : public ::testing::TestWithParam<std::tuple<Init, int>> {};

TEST_P(InitVarianceTest, MatchesFormulaWithinSamplingError) {
  const auto [init, fan_in] = GetParam();
  const int fan_out = 1000;
  Rng rng(123);
  Eigen::MatrixXd w(fan_out, fan_in);
  InitializeWeights<double>(init, 1.0, rng, w);
  const Moments m = Measure(w);
  const double want = InitVariance(init, fan_in, fan_out);
  const double n = static_cast<double>(w.size());
  // The sample variance has relative sd sqrt((kurtosis - 1) / N): 0.8 for a
  // uniform, 2 for a normal. Allow 5 sd. The mean has sd sqrt(Var / N).
  const bool uniform = init == Init::kStandard || init == Init::kNormalized ||
                       init == Init::kLecunUniform || init == Init::kHeUniform;
  const double rel_sd = std::sqrt((uniform ? 0.8 : 2.0) / n);
  EXPECT_NEAR(m.var / want, 1.0, 5 * rel_sd) << InitName(init);
  EXPECT_NEAR(m.mean, 0.0, 5 * std::sqrt(want / n)) << InitName(init);
  if (uniform) {
    // U[-r, r]: kurtosis 1.8, support bounded by r = sqrt(3 Var).
    EXPECT_NEAR(m.kurtosis, 1.8, 0.02) << InitName(init);
    EXPECT_LE(m.max_abs, std::sqrt(3 * want) * (1 + 1e-12));
    EXPECT_GE(m.max_abs, std::sqrt(3 * want) * 0.999);
  } else if (init != Init::kOrthogonal) {
    EXPECT_NEAR(m.kurtosis, 3.0, 0.05) << InitName(init);
  }
}

INSTANTIATE_TEST_SUITE_P(Width1000, InitVarianceTest,
                         ::testing::Combine(::testing::ValuesIn(kAllInits),
                                            ::testing::Values(1000, 400)),
                         [](const auto& info) {
                           return std::string(InitName(std::get<0>(info.param))) + "_fan_in_" +
                                  std::to_string(std::get<1>(info.param));
                         });

TEST(Orthogonal, SingularValuesEqualTheGain) {
  for (auto [rows, cols] : {std::pair{60, 60}, std::pair{80, 30}, std::pair{30, 80}}) {
    Rng rng(5);
    Eigen::MatrixXd w(rows, cols);
    InitializeWeights<double>(Init::kOrthogonal, 1.5, rng, w);
    const Eigen::MatrixXd gram =
        rows >= cols ? Eigen::MatrixXd(w.transpose() * w) : Eigen::MatrixXd(w * w.transpose());
    const auto eye = Eigen::MatrixXd::Identity(gram.rows(), gram.cols());
    EXPECT_LT((gram - 2.25 * eye).cwiseAbs().maxCoeff(), 1e-12) << rows << "x" << cols;
  }
}

TEST(Initializer, SameSeedSameBitsAndFloatMatchesDouble) {
  for (Init init : kAllInits) {
    Rng a(9), b(9), c(10);
    Eigen::MatrixXf wa(30, 20), wb(30, 20), wc(30, 20);
    Eigen::MatrixXd wd(30, 20);
    InitializeWeights<float>(init, 1.0, a, wa);
    InitializeWeights<float>(init, 1.0, b, wb);
    InitializeWeights<float>(init, 1.0, c, wc);
    Rng d(9);
    InitializeWeights<double>(init, 1.0, d, wd);
    EXPECT_EQ(wa, wb) << InitName(init);
    EXPECT_NE(wa, wc) << InitName(init);
    EXPECT_EQ(wa, wd.cast<float>()) << InitName(init);
  }
}

TEST(Initializer, GainScalesVariance) {
  EXPECT_DOUBLE_EQ(InitVariance(Init::kHeNormal, 100, 50, 2.0), 4 * 2.0 / 100);
  EXPECT_DOUBLE_EQ(InitVariance(Init::kStandard, 300, 10), 1.0 / 900);
  EXPECT_DOUBLE_EQ(InitVariance(Init::kNormalized, 300, 100), 2.0 / 400);
}

TEST(Initializer, ParsesEveryNameAndListsThemOnError) {
  for (Init init : kAllInits) EXPECT_EQ(*ParseInit(InitName(init)), init);
  const auto bad = ParseInit("xavier");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("normalized"), std::string::npos);
  EXPECT_NE(bad.status().message().find("xavier"), std::string::npos);
}

}  // namespace
}  // namespace deepsweep::ml
