// PageCache: kept between changes, recomputed after one, at most once per
// min_interval however many callers, never behind a computation in progress.
// Time is a FakeClock; concurrency is driven by Notifications, never sleeps.
#include "web/page_cache.h"

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "gtest/gtest.h"

namespace deepsweep::web {
namespace {

class PageCacheTest : public ::testing::Test {
 protected:
  // The page `key` at `version`; its body says which computation made it.
  std::string Get(const std::string& key, uint64_t version) {
    auto page = cache_.Get(key, version, [&]() -> absl::StatusOr<std::string> {
      ++computed_;
      return absl::StrCat(key, " v", version, " #", computed_);
    });
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? (*page)->body : "";
  }

  FakeClock clock_;
  PageCacheOptions options_{.min_interval = absl::Milliseconds(500), .max_age = absl::Seconds(5)};
  PageCache cache_{&clock_, options_};
  int computed_ = 0;
};

TEST_F(PageCacheTest, KeptWhileItsDataDoNotChange) {
  EXPECT_EQ(Get("sweep/1", 7), "sweep/1 v7 #1");
  for (int i = 0; i < 40; ++i) {  // 4 s of polls at 10 per second
    clock_.Advance(absl::Milliseconds(100));
    EXPECT_EQ(Get("sweep/1", 7), "sweep/1 v7 #1");
  }
  EXPECT_EQ(computed_, 1);
  EXPECT_EQ(cache_.stats().computed, 1);
  EXPECT_EQ(cache_.stats().served_kept, 40);
  // Other keys are other pages.
  EXPECT_EQ(Get("sweep/2", 7), "sweep/2 v7 #2");
}

TEST_F(PageCacheTest, RecomputedAfterAChangeOnceMinIntervalHasPassed) {
  EXPECT_EQ(Get("sweep/1", 1), "sweep/1 v1 #1");
  clock_.Advance(absl::Milliseconds(499));
  EXPECT_EQ(Get("sweep/1", 2), "sweep/1 v1 #1");  // changed, but computed 499 ms ago
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(Get("sweep/1", 2), "sweep/1 v2 #2");
  EXPECT_EQ(Get("sweep/1", 2), "sweep/1 v2 #2");
}

TEST_F(PageCacheTest, RecomputedAtMaxAgeEvenWithoutAChange) {
  Get("sweeps", 3);
  clock_.Advance(absl::Seconds(5) - absl::Microseconds(1));
  EXPECT_EQ(Get("sweeps", 3), "sweeps v3 #1");
  clock_.Advance(absl::Microseconds(1));
  EXPECT_EQ(Get("sweeps", 3), "sweeps v3 #2");  // an ETA moves with time alone
}

// Five viewers poll every 100 ms for 10 s while the data change every 10 ms:
// the page is computed at most once per 500 ms, and every page served shows
// the data as they were at most 500 ms before.
TEST_F(PageCacheTest, ComputationsPerIntervalAreBoundedUnderConstantChange) {
  const absl::Time start = clock_.Now();
  uint64_t version = 0;
  int served = 0;
  for (int tick = 0; tick < 1000; ++tick) {  // 10 ms ticks
    ++version;
    if (tick % 10 != 0) {
      clock_.Advance(absl::Milliseconds(10));
      continue;
    }
    for (int viewer = 0; viewer < 5; ++viewer) {
      auto page = cache_.Get("sweep/1", version, [&]() -> absl::StatusOr<std::string> {
        ++computed_;
        return absl::StrCat(version);
      });
      ASSERT_TRUE(page.ok());
      ++served;
      EXPECT_GE((*page)->computed_at, clock_.Now() - options_.min_interval);
    }
    clock_.Advance(absl::Milliseconds(10));
  }
  EXPECT_EQ(served, 500);
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(10));
  EXPECT_EQ(computed_, 20);  // one per 500 ms of the 10 s, not one per request
}

TEST_F(PageCacheTest, ErrorsAreNotKept) {
  auto failed = cache_.Get("sweep/9", 1, []() -> absl::StatusOr<std::string> {
    return absl::NotFoundError("sweep 9 not found");
  });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get("sweep/9", 1), "sweep/9 v1 #1");  // the next call computes again
  EXPECT_EQ(cache_.stats().computed, 2);
}

// While one caller computes a page, another is served the kept one at once,
// and a caller finding none kept waits for that computation rather than
// starting its own.
TEST_F(PageCacheTest, CallersDoNotQueueBehindOrRepeatAComputation) {
  Get("sweep/1", 1);
  clock_.Advance(absl::Seconds(1));
  absl::Notification computing, finish;
  std::thread slow([&] {
    auto page = cache_.Get("sweep/1", 2, [&]() -> absl::StatusOr<std::string> {
      computing.Notify();
      finish.WaitForNotification();
      return std::string("v2");
    });
    EXPECT_EQ((*page)->body, "v2");
  });
  computing.WaitForNotification();
  EXPECT_EQ(Get("sweep/1", 2), "sweep/1 v1 #1");  // not blocked: the kept page
  finish.Notify();
  slow.join();
  EXPECT_EQ(Get("sweep/1", 2), "v2");

  absl::Notification first_computing, first_finish;
  std::thread first([&] {
    auto page = cache_.Get("sweep/3", 1, [&]() -> absl::StatusOr<std::string> {
      first_computing.Notify();
      first_finish.WaitForNotification();
      return std::string("first");
    });
    EXPECT_EQ((*page)->body, "first");
  });
  first_computing.WaitForNotification();
  std::string second;
  std::thread waiter([&] { second = Get("sweep/3", 1); });
  first_finish.Notify();
  first.join();
  waiter.join();
  EXPECT_EQ(second, "first");  // the waiter's own computation never ran
  EXPECT_EQ(computed_, 1);
}

TEST_F(PageCacheTest, KeepsAtMostMaxPagesDroppingTheLeastRecentlyAsked) {
  PageCache small(&clock_, {.max_pages = 2});
  int computed = 0;
  auto get = [&](const std::string& key) {
    clock_.Advance(absl::Milliseconds(1));
    auto page = small.Get(key, 1, [&]() -> absl::StatusOr<std::string> {
      ++computed;
      return key;
    });
    return page.ok() ? (*page)->body : "";
  };
  get("a");
  get("b");
  get("a");  // kept; b is now the least recently asked for
  get("c");  // drops b
  EXPECT_EQ(computed, 3);
  get("a");
  EXPECT_EQ(computed, 3);
  get("b");
  EXPECT_EQ(computed, 4);
}

TEST(EntityTag, FollowsTheBytes) {
  EXPECT_EQ(EntityTag("{}"), EntityTag(std::string("{}")));
  EXPECT_NE(EntityTag("{\"a\":1}"), EntityTag("{\"a\":2}"));
  EXPECT_EQ(EntityTag("").front(), '"');
  EXPECT_EQ(EntityTag("").back(), '"');
}

}  // namespace
}  // namespace deepsweep::web
