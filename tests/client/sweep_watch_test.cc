// SweepWatchView over a scripted stream, with times from a FakeClock: the
// terminal block redraws on every message (heartbeats included) with the
// elapsed time and ETA moving, and plain lines come one per event, rate
// limited, the final state always.
#include "client/sweep_watch.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep::client {
namespace {

using ::testing::HasSubstr;

class SweepWatchViewTest : public ::testing::Test {
 protected:
  SweepWatchViewTest() {
    sweep_.id = 3;
    sweep_.name = "quick";
    sweep_.created_at = clock_.Now();
    sweep_.counts = {.pending = 3, .leased = 1};
    TrialRecord running;
    running.id = 10;
    running.state = TrialState::kLeased;
    running.spec.updates = 1000;
    trials_.push_back(running);
    for (TrialId id : {11, 12, 13}) {
      TrialRecord pending;
      pending.id = id;
      pending.spec.updates = 1000;
      trials_.push_back(pending);
    }
    clock_.Advance(absl::Minutes(10));  // the watch starts 10 minutes in
  }

  // The progress message with trial 10 at `steps` and `succeeded` done.
  rpc::SweepProgress Progress(int64_t steps, int64_t succeeded = 0) const {
    rpc::SweepProgress p{.sweep_id = 3,
                         .counts = {.pending = 3 - succeeded, .leased = 1, .succeeded = succeeded}};
    p.running.push_back(
        {.trial_id = 10, .attempt = 1, .worker_id = "w", .steps_done = steps, .updates = 1000});
    return p;
  }

  FakeClock clock_;
  SweepRecord sweep_;
  std::vector<TrialRecord> trials_;
  std::ostringstream out_;
};

size_t NewLines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The block after the last redraw.
std::string LastBlock(const std::string& out) {
  const size_t at = out.rfind("\x1b[J");
  return at == std::string::npos ? out : out.substr(at + 3);
}

TEST_F(SweepWatchViewTest, TerminalRedrawsOnEveryMessageWithTheClockTicking) {
  SweepWatchView view(sweep_, trials_, {.terminal = true}, out_);
  view.Update(Progress(250), clock_.Now());
  // 0.25 of a trial in 10 minutes: 1.5 trials/h; 3.75 trials left = 2h30m.
  EXPECT_EQ(LastBlock(out_.str()),
            "sweep 3 'quick': active, created 10m00s ago\n"
            "[##......................................]   6.2%  0/4 done\n"
            "succeeded 0  diverged 0  failed 0  cancelled 0  leased 1  pending 3\n"
            "1.5 trials/h, ETA 2h30m\n"
            "running:\n"
            "  #10 tanh normalized, depth 5, lr 0.01, seed 0: step 250/1000 on w (attempt 1)\n");

  // A heartbeat a second later, nothing changed: redrawn, the clock moved.
  clock_.Advance(absl::Seconds(1));
  view.Update(Progress(250), clock_.Now());
  EXPECT_THAT(LastBlock(out_.str()), HasSubstr("created 10m01s ago\n"));
  // Drawn over the 6 lines of the block before it.
  EXPECT_THAT(out_.str(), HasSubstr("\x1b[6F\x1b[J"));

  // The first completion: the rate comes from completions now.
  clock_.Advance(absl::Minutes(20));
  view.Update(Progress(0, /*succeeded=*/1), clock_.Now());
  EXPECT_THAT(LastBlock(out_.str()), HasSubstr("created 30m01s ago\n"));
  EXPECT_THAT(LastBlock(out_.str()), HasSubstr("succeeded 1  "));
  // One completion since creation 30m01s ago: 1.9989 trials/h.
  EXPECT_THAT(LastBlock(out_.str()), HasSubstr("2.0 trials/h, ETA 1h30m\n"));
}

TEST_F(SweepWatchViewTest, PlainLinesAreOnePerEventRateLimited) {
  SweepWatchView view(sweep_, trials_, {.terminal = false, .line_interval = absl::Seconds(5)},
                      out_);
  auto lines = [&] {
    return std::vector<std::string>(absl::StrSplit(out_.str(), '\n', absl::SkipEmpty()));
  };
  view.Update(Progress(0), clock_.Now());
  ASSERT_EQ(lines().size(), 1u);
  EXPECT_EQ(lines()[0],
            "2023-11-14T22:23:20Z sweep 3 active 0/4 done (0.0%): succeeded 0, diverged 0, "
            "failed 0, cancelled 0, leased 1, pending 3; throughput unknown yet, ETA unknown; "
            "running #10 0/1000");

  // Heartbeats alone print nothing.
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(absl::Seconds(1));
    view.Update(Progress(0), clock_.Now());
  }
  EXPECT_EQ(lines().size(), 1u);

  // Two events within the interval: the first is printed, the second held
  // and printed by the first message after the interval.
  view.Update(Progress(100), clock_.Now());
  ASSERT_EQ(lines().size(), 2u);
  EXPECT_THAT(lines()[1], HasSubstr("running #10 100/1000"));
  clock_.Advance(absl::Seconds(1));
  view.Update(Progress(200), clock_.Now());
  EXPECT_EQ(lines().size(), 2u);
  clock_.Advance(absl::Seconds(4));
  view.Update(Progress(200), clock_.Now());  // a heartbeat
  ASSERT_EQ(lines().size(), 3u);
  EXPECT_THAT(lines()[2], HasSubstr("running #10 200/1000"));

  // The end is printed at once, however soon.
  rpc::SweepProgress done{
      .sweep_id = 3, .state = SweepState::kFinished, .counts = {.succeeded = 4}};
  clock_.Advance(absl::Seconds(1));
  view.Update(done, clock_.Now());
  ASSERT_EQ(lines().size(), 4u);
  EXPECT_THAT(lines()[3], HasSubstr("finished 4/4 done (100.0%)"));
  EXPECT_EQ(out_.str().find('\x1b'), std::string::npos);
}

TEST_F(SweepWatchViewTest, AHeldLineIsPrintedWhenTheStreamEnds) {
  SweepWatchView view(sweep_, trials_, {.terminal = false, .line_interval = absl::Seconds(5)},
                      out_);
  view.Update(Progress(0), clock_.Now());
  view.Update(Progress(300), clock_.Now());
  EXPECT_EQ(NewLines(out_.str()), 1u);
  view.Finish(clock_.Now());
  EXPECT_EQ(NewLines(out_.str()), 2u);
  EXPECT_THAT(out_.str(), HasSubstr("running #10 300/1000\n"));
  view.Finish(clock_.Now());  // nothing more to print
  EXPECT_EQ(NewLines(out_.str()), 2u);
}

}  // namespace
}  // namespace deepsweep::client
