#include "worker/dataset_cache.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "ml/data/dataset_factory.h"

namespace deepsweep::worker {
namespace {

ml::DatasetOptions SmallShapeset(ml::Preprocess preprocess = ml::Preprocess::kPm1) {
  ml::DatasetOptions o;
  o.name = "shapeset";
  o.validation_examples = 30;
  o.test_examples = 40;
  o.probe_examples = 10;
  o.preprocess = preprocess;
  o.standardize_sample = 200;
  return o;
}

bool SameExamples(const ml::Examples& a, const ml::Examples& b) {
  return a.y == b.y && a.x.rows() == b.x.rows() && a.x.cols() == b.x.cols() &&
         std::equal(a.x.data(), a.x.data() + a.x.size(), b.x.data());
}

// The first `batches` training batches of 10, concatenated.
ml::Examples Batches(ml::Dataset& d, int batches) {
  ml::Examples out;
  out.x.resize(d.input_dim, 10 * batches);
  out.y.resize(static_cast<size_t>(10 * batches));
  for (int b = 0; b < batches; ++b) {
    d.train->NextBatch(out.x.middleCols(10 * b, 10), out.y.data() + 10 * b);
  }
  return out;
}

void ExpectSameAsFactory(DatasetCache& cache, const ml::DatasetOptions& options, uint64_t seed) {
  auto expected = ml::LoadDataset(options, seed);
  auto got = cache.Load(options, seed);
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(SameExamples(got->validation, expected->validation));
  EXPECT_TRUE(SameExamples(got->test, expected->test));
  EXPECT_TRUE(SameExamples(got->probe, expected->probe));
  EXPECT_TRUE(SameExamples(Batches(*got, 3), Batches(*expected, 3)));
}

TEST(DatasetCache, ShapesetHitIsBitIdenticalToAFreshBuild) {
  for (ml::Preprocess p : {ml::Preprocess::kPm1, ml::Preprocess::kStandardize}) {
    DatasetCache cache;
    ExpectSameAsFactory(cache, SmallShapeset(p), 5);  // miss
    ExpectSameAsFactory(cache, SmallShapeset(p), 5);  // hit
    EXPECT_EQ(cache.shapeset_generations(), 1);
  }
}

TEST(DatasetCache, FixedShapesetTrainingSetHitsToo) {
  DatasetCache cache;
  ml::DatasetOptions o = SmallShapeset(ml::Preprocess::kStandardize);
  o.train_examples = 25;  // reshuffled each epoch: 3 batches cross an epoch
  ExpectSameAsFactory(cache, o, 9);
  ExpectSameAsFactory(cache, o, 9);
  EXPECT_EQ(cache.shapeset_generations(), 1);
}

TEST(DatasetCache, GeneratesOncePerSeedAndKeepsTheMostRecent) {
  DatasetCache cache(DatasetCacheOptions{.shapeset_sets = 2});
  const ml::DatasetOptions o = SmallShapeset();
  for (uint64_t seed : {1, 2, 1, 2, 1}) ASSERT_TRUE(cache.Load(o, seed).ok());
  EXPECT_EQ(cache.shapeset_generations(), 2);
  ASSERT_TRUE(cache.Load(o, 3).ok());  // evicts seed 2, the least recently used
  ASSERT_TRUE(cache.Load(o, 1).ok());
  EXPECT_EQ(cache.shapeset_generations(), 3);
  ASSERT_TRUE(cache.Load(o, 2).ok());
  EXPECT_EQ(cache.shapeset_generations(), 4);
}

TEST(DatasetCache, OtherOptionsAreOtherSets) {
  DatasetCache cache;
  ml::DatasetOptions a = SmallShapeset(), b = SmallShapeset();
  b.test_examples = 41;
  ASSERT_TRUE(cache.Load(a, 1).ok());
  auto other = cache.Load(b, 1);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->test.size(), 41);
  EXPECT_EQ(cache.shapeset_generations(), 2);
}

TEST(DatasetCache, ZeroCapacityCachesNothing) {
  DatasetCache cache(DatasetCacheOptions{.shapeset_sets = 0});
  ASSERT_TRUE(cache.Load(SmallShapeset(), 1).ok());
  ASSERT_TRUE(cache.Load(SmallShapeset(), 1).ok());
  EXPECT_EQ(cache.shapeset_generations(), 2);
}

TEST(DatasetCache, FileDatasetErrorsNameTheFile) {
  DatasetCache cache;
  ml::DatasetOptions o;
  o.name = "mnist";
  o.path = "/nonexistent/mnist";
  auto loaded = cache.Load(o, 1);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
}

TEST(DatasetCache, UnknownDatasetIsInvalidArgument) {
  DatasetCache cache;
  ml::DatasetOptions o;
  o.name = "imagenet";
  EXPECT_EQ(cache.Load(o, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deepsweep::worker
