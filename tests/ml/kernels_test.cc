#include "ml/kernels.h"

#include <cstring>
#include <string>
#include <tuple>

#include "gtest/gtest.h"
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

// (m, k, n) shapes covering full 16-row tiles, the 8-row tile, scalar
// remainders, every column-chunk width and the BLAS range.
class ProductTest : public ::testing::TestWithParam<std::tuple<GemmBackend, int, int, int>> {};

TEST_P(ProductTest, MatchesDoubleReference) {
  const auto [backend, m, k, n] = GetParam();
  // Operands are blocks of larger matrices, so outer strides differ from rows.
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

  MatrixF g(k, n);
  MultiplyAt(a, bm, g, backend);
  ExpectNear(g, a.cast<double>().transpose() * bm.cast<double>(), tol);

  // C (m x k) += alpha * bm (m x n) * b^T (n x k).
  MatrixF w = RandomMatrix(m, k, 4);
  const MatrixD w0 = w.cast<double>();
  const MatrixF bk = RandomMatrix(k, n, 5);
  AddOuter(-0.25f, bm, bk, w, backend);
  ExpectNear(w, w0 - 0.25 * bm.cast<double>() * bk.cast<double>().transpose(), tol);
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

TEST(SmallBatchKernels, BitIdenticalAcrossRuns) {
  const MatrixF a = RandomMatrix(100, 80, 8), b = RandomMatrix(80, 10, 9);
  MatrixF c1(100, 10), c2(100, 10);
  Multiply(a, b, c1, GemmBackend::kSmallBatch);
  Multiply(a, b, c2, GemmBackend::kSmallBatch);
  EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), sizeof(float) * c1.size()));
}

}  // namespace
}  // namespace deepsweep::ml
