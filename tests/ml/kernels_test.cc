#include "ml/kernels.h"

#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "ml/kernel_threads.h"
#include "ml/random.h"

namespace deepsweep::ml {
namespace {

MatrixF RandomMatrix(Eigen::Index rows, Eigen::Index cols, uint64_t seed) {
  Rng rng(seed);
  MatrixF m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.Uniform(-1, 1));
  return m;
}

// |got - want| <= tol * (k-term dot products of values in [-1, 1]).
void ExpectNear(const MatrixF& got, const MatrixD& want, double tol) {
  ASSERT_EQ(got.rows(), want.rows());
  ASSERT_EQ(got.cols(), want.cols());
  const double err = (got.cast<double>() - want).cwiseAbs().maxCoeff();
  EXPECT_LE(err, tol);
}

// Multiply, MultiplyAt, AddOuter and the fused pass on (m, k, n) against the
// double-precision reference. Operands are blocks of larger matrices, so outer
// strides differ from rows, and writes outside a block are caught.
void CheckProducts(GemmBackend backend, int m, int k, int n) {
  SCOPED_TRACE(testing::Message() << "m=" << m << " k=" << k << " n=" << n);
  const MatrixF a_big = RandomMatrix(m + 3, k + 2, 1), b_big = RandomMatrix(k + 5, n + 1, 2);
  const MatrixF bt_big = RandomMatrix(m + 4, n + 1, 3);
  const auto a = a_big.topLeftCorner(m, k);
  const auto b = b_big.topLeftCorner(k, n);
  const auto bm = bt_big.topLeftCorner(m, n);
  const double tol = 1e-5 * (k + m + n);

  MatrixF c_big = MatrixF::Constant(m + 2, n + 3, 7.0f);
  Multiply(a, b, c_big.topLeftCorner(m, n), backend);
  ExpectNear(c_big.topLeftCorner(m, n), a.cast<double>() * b.cast<double>(), tol);
  EXPECT_EQ(c_big(m, 0), 7.0f) << "wrote outside its block";
  EXPECT_EQ(c_big(0, n), 7.0f) << "wrote outside its block";

  MatrixF g(k, n);
  MultiplyAt(a, bm, g, backend);
  ExpectNear(g, a.cast<double>().transpose() * bm.cast<double>(), tol);

  // C (m x k) += alpha * bm (m x n) * b^T (n x k).
  MatrixF w_big = RandomMatrix(m + 1, k, 4);
  auto w = w_big.topRows(m);
  const MatrixD w0 = w.cast<double>();
  const float below = w_big(m, 0);
  const MatrixF bk = RandomMatrix(k, n, 5);
  AddOuter(-0.25f, bm, bk, w, backend);
  ExpectNear(w, w0 - 0.25 * bm.cast<double>() * bk.cast<double>().transpose(), tol);
  EXPECT_EQ(w_big(m, 0), below) << "wrote outside its block";

  // Fused backward + update: G from W before the update, then the update.
  MatrixF w2 = RandomMatrix(m, k, 6);
  const MatrixD w2_0 = w2.cast<double>();
  MatrixF g2(k, n);
  MultiplyAtThenAddOuter(-0.25f, w2, bm, bk, g2, backend);
  ExpectNear(g2, w2_0.transpose() * bm.cast<double>(), tol);
  ExpectNear(w2, w2_0 - 0.25 * bm.cast<double>() * bk.cast<double>().transpose(), tol);
}

// (m, k, n) shapes covering full tiles, single and partial vectors, every
// column-chunk width and the BLAS range, on the best ISA this CPU has.
class ProductTest : public ::testing::TestWithParam<std::tuple<GemmBackend, int, int, int>> {};

TEST_P(ProductTest, MatchesDoubleReference) {
  const auto [backend, m, k, n] = GetParam();
  CheckProducts(backend, m, k, n);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ProductTest,
    ::testing::Combine(::testing::Values(GemmBackend::kAuto, GemmBackend::kEigen,
                                         GemmBackend::kSmallBatch, GemmBackend::kBlas),
                       ::testing::Values(1, 10, 16, 27, 40), ::testing::Values(1, 9, 33),
                       ::testing::Values(1, 5, 6, 7, 10, 13, 32, 70)),
    [](const auto& info) {
      return std::string(GemmBackendName(std::get<0>(info.param))) + "_m" +
             std::to_string(std::get<1>(info.param)) + "_k" +
             std::to_string(std::get<2>(info.param)) + "_n" +
             std::to_string(std::get<3>(info.param));
    });

TEST(GemmBackend, ParsesNamesAndRejectsOthers) {
  for (GemmBackend b :
       {GemmBackend::kAuto, GemmBackend::kEigen, GemmBackend::kSmallBatch, GemmBackend::kBlas}) {
    ASSERT_TRUE(ParseGemmBackend(GemmBackendName(b)).ok());
    EXPECT_EQ(*ParseGemmBackend(GemmBackendName(b)), b);
  }
  const auto bad = ParseGemmBackend("cuda");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

// Every dispatched instruction set of the small-batch kernels against the
// double-precision reference, over shapes that cover full register tiles,
// single vectors, partial (masked) vectors, every column-chunk width of each
// ISA and strided operands. ISAs this CPU lacks are skipped (and say so).
class IsaTest : public ::testing::TestWithParam<KernelIsa> {
 protected:
  void SetUp() override {
    if (!KernelIsaSupported(GetParam())) {
      GTEST_SKIP() << "this CPU lacks " << KernelIsaName(GetParam()) << "; its kernels untested";
    }
    ASSERT_TRUE(SelectKernelIsa(GetParam()).ok());
  }
  void TearDown() override { ASSERT_TRUE(SelectKernelIsa(BestKernelIsa()).ok()); }
};

TEST_P(IsaTest, SmallBatchMatchesDoubleReference) {
  for (int m : {1, 3, 10, 16, 27, 40, 75}) {
    for (int k : {1, 9, 33}) {
      for (int n : {1, 5, 6, 7, 10, 12, 13, 25, 70}) {
        CheckProducts(GemmBackend::kSmallBatch, m, k, n);
        if (HasFailure()) return;
      }
    }
  }
  // Inner dimensions of one, two and three forward blocks (256 columns of A
  // each, summed in order).
  for (int k : {256, 257, 600}) {
    for (int n : {1, 10}) {
      CheckProducts(GemmBackend::kSmallBatch, 40, k, n);
      if (HasFailure()) return;
    }
  }
}

// Same path, same inputs, same bits, run after run.
TEST_P(IsaTest, BitIdenticalAcrossRuns) {
  const MatrixF a = RandomMatrix(100, 80, 8), b = RandomMatrix(80, 10, 9);
  MatrixF c1(100, 10), c2(100, 10);
  Multiply(a, b, c1, GemmBackend::kSmallBatch);
  Multiply(a, b, c2, GemmBackend::kSmallBatch);
  EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), sizeof(float) * c1.size()));
}

INSTANTIATE_TEST_SUITE_P(Isas, IsaTest,
                         ::testing::Values(KernelIsa::kGeneric, KernelIsa::kAvx2,
                                           KernelIsa::kAvx512),
                         [](const auto& info) { return std::string(KernelIsaName(info.param)); });

TEST(KernelIsa, ParsesNamesAndRejectsOthers) {
  for (KernelIsa isa : {KernelIsa::kGeneric, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    ASSERT_TRUE(ParseKernelIsa(KernelIsaName(isa)).ok());
    EXPECT_EQ(*ParseKernelIsa(KernelIsaName(isa)), isa);
  }
  EXPECT_EQ(ParseKernelIsa("sse9").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KernelIsa, BestIsSupportedAndActiveByDefault) {
  EXPECT_TRUE(KernelIsaSupported(KernelIsa::kGeneric));
  EXPECT_TRUE(KernelIsaSupported(BestKernelIsa()));
  EXPECT_EQ(ActiveKernelIsa(), BestKernelIsa());
  EXPECT_NE(ComputePath().find(KernelIsaName(BestKernelIsa())), std::string::npos);
}

TEST(KernelIsa, RefusesWhatTheCpuLacks) {
  for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (KernelIsaSupported(isa)) continue;
    const absl::Status s = SelectKernelIsa(isa);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(std::string(s.message()).find(KernelIsaName(isa)), std::string::npos);
    EXPECT_EQ(ActiveKernelIsa(), BestKernelIsa());
  }
}

// The ISAs round differently (FMA or not, lane counts): results may differ in
// the last bits between paths, never by more than rounding.
TEST(KernelIsa, PathsAgreeWithinRounding) {
  const MatrixF a = RandomMatrix(100, 300, 8), b = RandomMatrix(300, 10, 9);
  MatrixF best(100, 10), generic(100, 10);
  Multiply(a, b, best, GemmBackend::kSmallBatch);
  ASSERT_TRUE(SelectKernelIsa(KernelIsa::kGeneric).ok());
  Multiply(a, b, generic, GemmBackend::kSmallBatch);
  ASSERT_TRUE(SelectKernelIsa(BestKernelIsa()).ok());
  EXPECT_LE((best - generic).cwiseAbs().maxCoeff(), 1e-4f);
}

// Products split over threads (ml/kernel_threads.h) give the bits of the
// unsplit product, for every thread count, shape and ISA.
TEST_P(IsaTest, EveryThreadCountGivesTheSameBits) {
  for (int m : {75, 300}) {
    const MatrixF a = RandomMatrix(m, 200, 8), b = RandomMatrix(200, 10, 9);
    const MatrixF d = RandomMatrix(m, 10, 10), at = RandomMatrix(200, 10, 11);
    // Three forward blocks (256 + 256 + 88 columns of A).
    const MatrixF a_wide = RandomMatrix(m, 600, 12), b_wide = RandomMatrix(600, 10, 13);
    auto run = [&](int threads) {
      const KernelThreads pool(threads);
      std::vector<MatrixF> out(6);
      out[0].resize(m, 10);
      Multiply(a, b, out[0], GemmBackend::kSmallBatch);
      out[5].resize(m, 10);
      Multiply(a_wide, b_wide, out[5], GemmBackend::kSmallBatch);
      out[1].resize(200, 10);
      MultiplyAt(a, d, out[1], GemmBackend::kSmallBatch);
      out[2] = a;
      AddOuter(-0.5f, d, at, out[2], GemmBackend::kSmallBatch);
      out[3] = a;
      out[4].resize(200, 10);
      MultiplyAtThenAddOuter(-0.5f, out[3], d, at, out[4], GemmBackend::kSmallBatch);
      return out;
    };
    const std::vector<MatrixF> one = run(1);
    for (int threads : {2, 3, 4}) {
      const std::vector<MatrixF> many = run(threads);
      for (size_t i = 0; i < one.size(); ++i) {
        EXPECT_EQ(0, std::memcmp(one[i].data(), many[i].data(), sizeof(float) * one[i].size()))
            << "m " << m << " threads " << threads << " product " << i;
      }
    }
  }
}

TEST(SmallBatchKernels, BitIdenticalAcrossRuns) {
  const MatrixF a = RandomMatrix(100, 80, 8), b = RandomMatrix(80, 10, 9);
  MatrixF c1(100, 10), c2(100, 10);
  Multiply(a, b, c1, GemmBackend::kSmallBatch);
  Multiply(a, b, c2, GemmBackend::kSmallBatch);
  EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), sizeof(float) * c1.size()));
}

TEST(AutoPlan, TextRoundTripsAndEachRangeServesItsWidths) {
  absl::StatusOr<AutoPlan> plan = ParseAutoPlan("1:eigen,4:small_batch,91:blas");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(AutoPlanText(*plan), "1:eigen,4:small_batch,91:blas");
  EXPECT_EQ(plan->For(1), GemmBackend::kEigen);
  EXPECT_EQ(plan->For(3), GemmBackend::kEigen);
  EXPECT_EQ(plan->For(4), GemmBackend::kSmallBatch);
  EXPECT_EQ(plan->For(90), GemmBackend::kSmallBatch);
  EXPECT_EQ(plan->For(91), GemmBackend::kBlas);
  EXPECT_EQ(plan->For(10000), GemmBackend::kBlas);
  EXPECT_EQ(AutoPlanText(DefaultAutoPlan()), "1:small_batch,33:blas");
}

TEST(AutoPlan, RefusesInvalidPlansNamingTheProblem) {
  for (const char* text :
       {"", "small_batch", "1:small_batch,x:blas", "1:auto", "1:gpu", "2:small_batch",
        "1:small_batch,33:blas,33:eigen", "1:small_batch,40:blas,33:eigen"}) {
    absl::StatusOr<AutoPlan> plan = ParseAutoPlan(text);
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(std::string(plan.status().message()).find("auto plan"), std::string::npos) << text;
  }
  const AutoPlan before = ActiveAutoPlan();
  EXPECT_EQ(SelectAutoPlan(AutoPlan{}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ActiveAutoPlan(), before);
}

// kAuto computes with the backend the active plan names: its bits are that
// backend's, and the plan is part of the compute path.
TEST(AutoPlan, SelectsWhatAutoComputesWith) {
  ASSERT_EQ(ActiveAutoPlan(), DefaultAutoPlan());
  const MatrixF a = RandomMatrix(64, 200, 8), b = RandomMatrix(200, 10, 9);
  auto product = [&](GemmBackend backend) {
    MatrixF c(64, 10);
    Multiply(a, b, c, backend);
    return c;
  };
  const MatrixF small = product(GemmBackend::kSmallBatch), eigen = product(GemmBackend::kEigen);
  ASSERT_NE(0, std::memcmp(small.data(), eigen.data(), sizeof(float) * small.size()))
      << "the two backends round alike here; the test cannot tell them apart";
  MatrixF c = product(GemmBackend::kAuto);
  EXPECT_EQ(0, std::memcmp(c.data(), small.data(), sizeof(float) * c.size()));

  ASSERT_TRUE(SelectAutoPlan(*ParseAutoPlan("1:small_batch,5:eigen,11:blas")).ok());
  c = product(GemmBackend::kAuto);
  EXPECT_EQ(0, std::memcmp(c.data(), eigen.data(), sizeof(float) * c.size()));
  EXPECT_NE(ComputePath().find(" auto=1:small_batch,5:eigen,11:blas"), std::string::npos)
      << ComputePath();
  ASSERT_TRUE(SelectAutoPlan(DefaultAutoPlan()).ok());
}

TEST(ComputePath, NamesItsIsaAndPlanAndPathsWithoutAPlanRanTheDefault) {
  const std::string path = ComputePath();
  EXPECT_EQ(ComputePathIsa(path), ActiveKernelIsa());
  EXPECT_EQ(ComputePathAutoPlan(path), ActiveAutoPlan());
  EXPECT_EQ(CanonicalComputePath(path), path);
  EXPECT_NE(path.find(" forward=blocks256"), std::string::npos) << path;
  // Stored before plans were measured (and before the blocked forward).
  EXPECT_EQ(ComputePathAutoPlan("avx2 openblas=Haswell"), DefaultAutoPlan());
  EXPECT_EQ(CanonicalComputePath("avx2 openblas=Haswell"),
            "avx2 openblas=Haswell auto=1:small_batch,33:blas forward=rows");
  // Stored with a plan, before the blocked forward.
  EXPECT_EQ(CanonicalComputePath("avx512 openblas=Cooperlake auto=1:small_batch,91:blas"),
            "avx512 openblas=Cooperlake auto=1:small_batch,91:blas forward=rows");
  EXPECT_NE(CanonicalComputePath("avx512 openblas=Cooperlake auto=1:small_batch,91:blas"),
            CanonicalComputePath("avx512 openblas=Cooperlake auto=1:small_batch,91:blas "
                                 "forward=blocks256"));
  EXPECT_EQ(CanonicalComputePath(""), "");
  EXPECT_EQ(ComputePathAutoPlan("avx2 openblas=Haswell auto=1:eigen"),
            (AutoPlan{.ranges = {{.first = 1, .backend = GemmBackend::kEigen}}}));
  EXPECT_FALSE(ComputePathAutoPlan("avx2 openblas=Haswell auto=7:eigen").has_value());
}

TEST(ScopedComputePath, SelectsWhatThePathNamesAndPutsThePreviousBack) {
  {
    const ScopedComputePath scoped("generic openblas=Other auto=1:eigen");
    EXPECT_EQ(ActiveKernelIsa(), KernelIsa::kGeneric);
    EXPECT_EQ(AutoPlanText(ActiveAutoPlan()), "1:eigen");
  }
  EXPECT_EQ(ActiveKernelIsa(), BestKernelIsa());
  EXPECT_EQ(ActiveAutoPlan(), DefaultAutoPlan());
  {
    // What the path names but this binary does not know stays as it was.
    const ScopedComputePath scoped("sse9 openblas=Other auto=oops");
    EXPECT_EQ(ActiveKernelIsa(), BestKernelIsa());
    EXPECT_EQ(ActiveAutoPlan(), DefaultAutoPlan());
  }
}

}  // namespace
}  // namespace deepsweep::ml
