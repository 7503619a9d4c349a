// asha_replay: an offline study of early-stopping schedules on a finished
// full grid (issue 15's learning-rate selection, bench/run_asha_bench.sh).
// Every trial of the grid ran to its last update, so its stored checkpoints
// are what the same trial would report under any schedule (same spec seed:
// the same trials, bit for bit). This replays the grid through core's real
// Scheduler (core/scheduler.h) in an event simulation of W workers:
//   - trials are leased in the coordinator's order, LeaseOrder(schedule,
//     sweep seed, trials), or in a random permutation per replication;
//   - a trial leased at time T reports its checkpoint at step s at
//     T + f * (overhead + s), f its speed factor (per update; uniform in
//     [1 - jitter, 1 + jitter] per trial and replication, all draws seeded);
//   - one checkpoint per Report(), as worker/worker_loop.cc sends them (each
//     checkpoint is sent when the trainer makes it, and the trainer stops at
//     that checkpoint when the answer says stop);
//   - a stop frees the worker at that time; it leases the next pending trial.
// Per replication it scores the run as bench/asha/compare.py does: updates
// trained (sum of the last step of every trial) over the grid's, the
// simulated wall time over the grid's (same timing model, index order, no
// stopping), and per model (activation x init) the rate kept (lowest mean
// final validation error among the trials run to the end; ties to the lower
// rate) is within the grid's 95% CI of the grid's chosen rate iff
// |grid mean test error(kept) - grid mean test error(best)| <= the CI
// half-width of best (Student's t, n - 1 df).
//
//   asha_replay --grid GRID.db [--check ASHA.db] [--replications 1000]
//               [--seed 1] [--jitter 0.2] [--overhead 400] [--workers 2]
//               [--candidate 'LABEL={rule: asha, metric: ..., ...}']...
//
// --check: the reproduction check against a real scheduled run of the same
// spec: (1) its checkpoints equal the grid's, (2) its lease order is
// LeaseOrder's, (3) its own checkpoints fed to a fresh Scheduler in the order
// the coordinator stored them (recorded_at) give its stored decisions,
// (4) the event simulation (jitter 0, and jittered) against its decisions.
// Without --candidate, a built-in list. A candidate's map is appended to the
// grid's spec as its `schedule:` section and parsed by ParseSweepSpec.
// Databases are only read; one of an older schema is read through a
// migrated temporary copy. Run by hand (under nice on a shared machine); it
// prints Markdown. Not modelled: lease and report round trips, dataset set-up
// beyond `--overhead`, speeds that change during a trial, machine load.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <unistd.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "core/coordinator.h"
#include "core/scheduler.h"
#include "core/splitmix64.h"
#include "core/stats.h"
#include "core/sweep_spec.h"
#include "store/sqlite_db.h"
#include "store/sqlite_sweep_store.h"

namespace deepsweep {
namespace {

struct Flags {
  std::string grid;
  std::string check;
  int replications = 1000;
  uint64_t seed = 1;
  double jitter = 0.2;
  double overhead = 400;  // updates' worth of time before step 0 (measured ~0.2 s / 0.48 ms)
  int workers = 2;
  std::vector<std::pair<std::string, std::string>> candidates;  // label, flow map
};

struct Trial {
  TrialRecord record;
  std::vector<Checkpoint> checkpoints;  // by step
};

// A finished sweep read from a database.
struct Sweep {
  SweepRecord record;
  SweepSpec spec;
  std::vector<Trial> trials;  // by index
};

// Opens `path` read-only; a file of an older schema is copied to a temporary
// file that is migrated and read instead (the original is never written).
absl::StatusOr<std::unique_ptr<SqliteSweepStore>> OpenStore(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteSweepStore>> store = SqliteSweepStore::OpenReadOnly(path);
  if (store.ok() || store.status().code() != absl::StatusCode::kFailedPrecondition ||
      !absl::StrContains(store.status().message(), "older")) {
    return store;
  }
  const std::filesystem::path copy =
      std::filesystem::temp_directory_path() /
      absl::StrCat("asha_replay-", getpid(), "-", std::filesystem::path(path).filename().string());
  std::error_code error;
  std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("copying ", path, ": ", error.message()));
  }
  std::fprintf(stderr, "%s: older schema; reading a migrated temporary copy\n", path.c_str());
  absl::StatusOr<std::unique_ptr<SqliteSweepStore>> migrated =
      SqliteSweepStore::Open(copy.string());
  // Unlinked at once: the open connection keeps reading it.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(copy.string() + suffix, error);
  }
  return migrated;
}

absl::StatusOr<Sweep> LoadSweep(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteSweepStore> store, OpenStore(path));
  ASSIGN_OR_RETURN(std::vector<SweepRecord> sweeps, store->ListSweeps());
  if (sweeps.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected one sweep, found ", sweeps.size()));
  }
  Sweep out{.record = sweeps[0]};
  ASSIGN_OR_RETURN(out.spec, ParseSweepSpec(out.record.spec_yaml));
  ASSIGN_OR_RETURN(std::vector<TrialRecord> trials,
                   store->ListTrials(TrialQuery{.sweep_id = out.record.id}));
  out.trials.resize(trials.size());
  for (TrialRecord& t : trials) {
    if (t.index < 0 || t.index >= static_cast<int>(trials.size()) || t.attempt != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": trial ", t.id, " has index ", t.index, " and attempt ", t.attempt,
                       " (this replay needs indices 0..n-1 and one attempt per trial)"));
    }
    Trial& slot = out.trials[static_cast<size_t>(t.index)];
    ASSIGN_OR_RETURN(slot.checkpoints, store->GetCheckpoints(t.id, t.attempt, false));
    slot.record = std::move(t);
  }
  return out;
}

// `map` is a `schedule:` section's flow map, or "none" (no schedule).
absl::StatusOr<ScheduleSpec> ParseSchedule(const Sweep& grid, const std::string& map) {
  if (map == "none") return ScheduleSpec{};
  ASSIGN_OR_RETURN(SweepSpec spec,
                   ParseSweepSpec(absl::StrCat(grid.record.spec_yaml, "\nschedule: ", map, "\n")));
  return spec.schedule;
}

// --- The grid's verdict per model -------------------------------------------

using RateCells = std::map<double, std::vector<size_t>>;  // rate -> trial indices
struct Model {
  std::string name;
  RateCells rates;
  double best_rate = 0;                // the grid's choice
  double best_test = 0;                // its mean test error
  double best_half = 0;                // its 95% CI half-width
  std::map<double, double> grid_test;  // rate -> grid mean test error
};

std::string ModelName(const TrialSpec& s) {
  std::string name = s.activation;
  name[0] = static_cast<char>(std::toupper(name[0]));
  return s.init == "normalized" ? name + " N" : name;
}

// The mean of `v` (not empty) by core's Summarize, the one the tables use.
double Mean(const std::vector<double>& v) { return Summarize(v).value().mean; }

// The rate of `cells` with the lowest mean final validation error among the
// trials `finished` says ran to the end (ties: the lower rate); nullopt when
// none did.
std::optional<double> KeptRate(const Sweep& grid, const RateCells& cells,
                               const std::vector<char>& finished) {
  std::optional<std::pair<double, double>> best;
  for (const auto& [rate, indices] : cells) {
    std::vector<double> v;
    for (size_t i : indices) {
      if (finished[i]) v.push_back(grid.trials[i].record.final_validation_error.value_or(NAN));
    }
    if (v.empty()) continue;
    const double m = Mean(v);
    if (!best.has_value() || m < best->second) best = {rate, m};
  }
  if (!best.has_value()) return std::nullopt;
  return best->first;
}

absl::StatusOr<std::vector<Model>> GridModels(const Sweep& grid) {
  std::map<std::string, Model> by_name;
  for (size_t i = 0; i < grid.trials.size(); ++i) {
    const TrialRecord& r = grid.trials[i].record;
    if (r.state != TrialState::kSucceeded || !r.final_test_error || !r.final_validation_error) {
      return absl::InvalidArgumentError(
          absl::StrCat("grid trial ", r.id, " did not succeed with final errors"));
    }
    Model& m = by_name[ModelName(r.spec)];
    m.name = ModelName(r.spec);
    m.rates[r.spec.learning_rate].push_back(i);
  }
  const std::vector<char> all(grid.trials.size(), 1);
  std::vector<Model> out;
  for (auto& [name, m] : by_name) {
    for (const auto& [rate, indices] : m.rates) {
      std::vector<double> test;
      for (size_t i : indices) test.push_back(*grid.trials[i].record.final_test_error);
      m.grid_test[rate] = Mean(test);
    }
    m.best_rate = *KeptRate(grid, m.rates, all);
    std::vector<double> test;
    for (size_t i : m.rates[m.best_rate]) test.push_back(*grid.trials[i].record.final_test_error);
    ASSIGN_OR_RETURN(SampleSummary s, Summarize(test, 0.95));
    m.best_test = s.mean;
    m.best_half = s.ci_half.value_or(0);
    out.push_back(std::move(m));
  }
  return out;
}

bool Within(const Model& m, double kept) {
  return std::abs(m.grid_test.at(kept) - m.best_test) <= m.best_half;
}

// --- The event simulation ----------------------------------------------------

struct Outcome {
  std::vector<char> finished;                // ran to its last checkpoint without a stop
  std::vector<int64_t> trained;              // its last reported step
  std::vector<std::optional<int64_t>> rung;  // where a stop came
  std::vector<TrialState> state;
  double makespan = 0;
  int64_t updates = 0;
};

// Runs the grid's trials under `schedule` on `workers` workers, leased in
// `order`, trial i running at `speed[i]` time units per update.
Outcome Simulate(const Sweep& grid, const ScheduleSpec& schedule, const std::vector<int>& order,
                 const std::vector<double>& speed, double overhead, int workers) {
  const size_t n = grid.trials.size();
  Outcome out{.finished = std::vector<char>(n, 0),
              .trained = std::vector<int64_t>(n, 0),
              .rung = std::vector<std::optional<int64_t>>(n),
              .state = std::vector<TrialState>(n, TrialState::kPending)};
  Scheduler scheduler(schedule);
  struct Slot {
    int trial = -1;
    size_t next = 0;  // its next checkpoint
    double start = 0;
  };
  std::vector<Slot> slots(static_cast<size_t>(workers));
  size_t leased = 0;
  const auto lease = [&](Slot& s, double now) {
    s = Slot{};
    if (leased == order.size()) return;
    s.trial = order[leased++];
    s.start = now;
    out.state[static_cast<size_t>(s.trial)] = TrialState::kLeased;
  };
  const auto when = [&](const Slot& s) {
    const Trial& t = grid.trials[static_cast<size_t>(s.trial)];
    return s.start + speed[static_cast<size_t>(s.trial)] *
                         (overhead + static_cast<double>(t.checkpoints[s.next].step));
  };
  for (Slot& s : slots) lease(s, 0);
  while (true) {
    // The earliest next report (ties: the lower worker).
    Slot* due = nullptr;
    double at = 0;
    for (Slot& s : slots) {
      if (s.trial < 0) continue;
      const double w = when(s);
      if (due == nullptr || w < at) due = &s, at = w;
    }
    if (due == nullptr) break;
    const size_t i = static_cast<size_t>(due->trial);
    const Trial& t = grid.trials[i];
    const Checkpoint& c = t.checkpoints[due->next];
    out.trained[i] = c.step;
    std::optional<StopDecision> stop =
        scheduler.Report(t.record.id, t.record.spec, absl::MakeConstSpan(&c, 1));
    out.makespan = std::max(out.makespan, at);
    if (stop.has_value()) {
      out.state[i] = stop->state;
      out.rung[i] = stop->rung;
      lease(*due, at);
    } else if (++due->next == t.checkpoints.size()) {
      out.state[i] = TrialState::kSucceeded;
      out.finished[i] = 1;
      lease(*due, at);
    }
  }
  for (int64_t s : out.trained) out.updates += s;
  return out;
}

std::vector<double> Speeds(size_t n, double jitter, uint64_t seed) {
  SplitMix64 rng(Mix64(seed ^ 0x7370656564ULL));  // "speed"
  std::vector<double> speed(n);
  for (double& f : speed) f = 1 + jitter * (2 * rng.NextUnit() - 1);
  return speed;
}

std::vector<int> RandomOrder(size_t n, uint64_t seed) {
  SplitMix64 rng(Mix64(seed ^ 0x6f72646572ULL));  // "order"
  std::vector<int> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int>(i);
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.NextBelow(i)]);  // Fisher-Yates
  return order;
}

std::vector<int> IndexOrder(size_t n) {
  std::vector<int> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int>(i);
  return order;
}

// --- Reproduction check -------------------------------------------------------

std::string Fate(TrialState state, std::optional<int64_t> rung) {
  return rung.has_value() ? absl::StrCat(std::string(TrialStateName(state)), "@", *rung)
                          : std::string(TrialStateName(state));
}

absl::Status Check(const Flags& f, const Sweep& grid) {
  ASSIGN_OR_RETURN(Sweep real, LoadSweep(f.check));
  std::printf("## Reproduction check against %s\n\n", f.check.c_str());
  const ScheduleSpec& schedule = real.spec.schedule;
  std::printf("Its schedule: %s; spec seed %llu; %zu trials.\n\n",
              absl::StrJoin(absl::StrSplit(DescribeSchedule(schedule), '\n'), "; ").c_str(),
              static_cast<unsigned long long>(real.spec.seed), real.trials.size());
  if (real.trials.size() != grid.trials.size() || real.spec.seed != grid.spec.seed) {
    return absl::InvalidArgumentError("the run is not the grid's sweep (trials or seed differ)");
  }
  // (1) Its checkpoints are the grid's.
  int64_t compared = 0, differ = 0;
  for (size_t i = 0; i < real.trials.size(); ++i) {
    const Trial& r = real.trials[i];
    const Trial& g = grid.trials[i];
    if (ConfigKey(r.record.spec) != ConfigKey(g.record.spec) ||
        r.record.spec.seed != g.record.spec.seed) {
      return absl::InvalidArgumentError(absl::StrCat("trial index ", i, " differs in its spec"));
    }
    for (const Checkpoint& c : r.checkpoints) {
      const auto it = std::find_if(g.checkpoints.begin(), g.checkpoints.end(),
                                   [&](const Checkpoint& x) { return x.step == c.step; });
      ++compared;
      if (it == g.checkpoints.end() || it->validation_error != c.validation_error ||
          it->validation_nll != c.validation_nll || it->test_error != c.test_error) {
        ++differ;
      }
    }
  }
  std::printf(
      "1. Checkpoints of the run equal to the grid's (same trial index and step; "
      "validation error, validation NLL and test error bit for bit): %lld of %lld.\n",
      static_cast<long long>(compared - differ), static_cast<long long>(compared));

  // (2) Its lease order.
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::OpenReadOnly(f.check));
  std::vector<int> leased;
  {
    ASSIGN_OR_RETURN(SqliteStatement st,
                     db->Prepare("SELECT t.trial_index FROM leases l JOIN trials t ON "
                                 "t.id = l.trial_id ORDER BY l.acquired_at_us, l.trial_id"));
    RETURN_IF_ERROR(st.ForEachRow([&] {
      leased.push_back(static_cast<int>(st.Int(0)));
      return absl::OkStatus();
    }));
  }
  const std::vector<int> order =
      LeaseOrder(schedule, real.spec.seed, static_cast<int>(real.trials.size()));
  std::printf("2. Leases in LeaseOrder(schedule, %llu, %zu)'s order: %s (%zu leases).\n",
              static_cast<unsigned long long>(real.spec.seed), real.trials.size(),
              leased == order ? "yes, all" : "NO", leased.size());

  // (3) Its own reports, in the coordinator's order, through a fresh Scheduler.
  struct Report {
    int64_t at;
    size_t index;
    size_t k;
  };
  std::vector<Report> reports;
  std::map<int64_t, size_t> index_of;
  for (size_t i = 0; i < real.trials.size(); ++i) index_of[real.trials[i].record.id] = i;
  {
    ASSIGN_OR_RETURN(SqliteStatement st,
                     db->Prepare("SELECT trial_id, step, recorded_at_us FROM checkpoints"));
    RETURN_IF_ERROR(st.ForEachRow([&] {
      const size_t i = index_of.at(st.Int(0));
      const std::vector<Checkpoint>& cs = real.trials[i].checkpoints;
      const auto it = std::find_if(cs.begin(), cs.end(),
                                   [&](const Checkpoint& c) { return c.step == st.Int(1); });
      reports.push_back({st.Int(2), i, static_cast<size_t>(it - cs.begin())});
      return absl::OkStatus();
    }));
  }
  std::sort(reports.begin(), reports.end(), [](const Report& a, const Report& b) {
    return std::tie(a.at, a.index, a.k) < std::tie(b.at, b.index, b.k);
  });
  Scheduler replay(schedule);
  std::vector<std::string> fate(real.trials.size(), "succeeded");
  for (const Report& r : reports) {
    const Trial& t = real.trials[r.index];
    std::optional<StopDecision> stop =
        replay.Report(t.record.id, t.record.spec, absl::MakeConstSpan(&t.checkpoints[r.k], 1));
    if (stop.has_value()) fate[r.index] = Fate(stop->state, stop->rung);
  }
  int same = 0;
  for (size_t i = 0; i < real.trials.size(); ++i) {
    same += fate[i] == Fate(real.trials[i].record.state, real.trials[i].record.rung);
  }
  std::printf(
      "3. Its %zu stored checkpoints, one per Report() in recorded_at order, through a "
      "fresh Scheduler: %d of %zu trials get the stored fate (state and rung).\n",
      reports.size(), same, real.trials.size());

  // (4) The event simulation of the grid's checkpoints.
  const auto matches = [&](const Outcome& o, std::map<std::string, int>* confusion) {
    int m = 0;
    for (size_t i = 0; i < real.trials.size(); ++i) {
      const std::string sim = Fate(o.state[i], o.rung[i]);
      const std::string was = Fate(real.trials[i].record.state, real.trials[i].record.rung);
      m += sim == was;
      if (confusion != nullptr) ++(*confusion)[absl::StrCat(was, " -> ", sim)];
    }
    return m;
  };
  std::map<std::string, int> confusion;
  const Outcome nominal = Simulate(
      grid, schedule, order, std::vector<double>(grid.trials.size(), 1.0), f.overhead, f.workers);
  const int nominal_match = matches(nominal, &confusion);
  int64_t real_updates = 0;
  for (const Trial& t : real.trials) {
    real_updates += t.checkpoints.empty() ? 0 : t.checkpoints.back().step;
  }
  std::printf(
      "4. Event simulation, real lease order, %d workers, every trial at the same speed "
      "(jitter 0, overhead %.0f updates): %d of %zu trials get the real run's fate; "
      "updates %lld (real run %lld).\n   Real -> simulated fate: ",
      f.workers, f.overhead, nominal_match, real.trials.size(),
      static_cast<long long>(nominal.updates), static_cast<long long>(real_updates));
  std::vector<std::string> parts;
  for (const auto& [k, v] : confusion) parts.push_back(absl::StrCat(k, " x", v));
  std::printf("%s.\n", absl::StrJoin(parts, ", ").c_str());
  std::vector<int> match_counts;
  for (int r = 0; r < f.replications; ++r) {
    const Outcome o =
        Simulate(grid, schedule, order, Speeds(grid.trials.size(), f.jitter, f.seed + r),
                 f.overhead, f.workers);
    match_counts.push_back(matches(o, nullptr));
  }
  std::sort(match_counts.begin(), match_counts.end());
  double mean = 0;
  for (int m : match_counts) mean += m;
  mean /= static_cast<double>(match_counts.size());
  std::printf(
      "   With speeds jittered per trial (uniform %.2f-%.2f, %d replications, seeds "
      "%llu..): trials matching the real fate: mean %.1f, min %d, median %d, max %d of "
      "%zu.\n\n",
      1 - f.jitter, 1 + f.jitter, f.replications, static_cast<unsigned long long>(f.seed), mean,
      match_counts.front(), match_counts[match_counts.size() / 2], match_counts.back(),
      real.trials.size());
  return absl::OkStatus();
}

// --- The study ------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> DefaultCandidates() {
  const std::string g = "group_by: [activation, init, depth]";
  std::vector<std::pair<std::string, std::string>> out;
  out.push_back({"none (the full grid)", "none"});
  const auto asha = [&](const char* metric, int min, int eta) {
    out.push_back(
        {absl::StrFormat("asha %s min %d eta %d",
                         metric == std::string("validation_nll") ? "nll" : "err", min, eta),
         absl::StrFormat("{rule: asha, metric: %s, %s, min_updates: %d, eta: %d}", metric, g, min,
                         eta)});
  };
  for (const char* metric : {"validation_error", "validation_nll"}) {
    asha(metric, 1000, 3);  // the current one (error)
    asha(metric, 2000, 3);
    asha(metric, 3000, 3);
    asha(metric, 2000, 2);
    asha(metric, 3000, 2);
    asha(metric, 1000, 4);
    // Later rungs: past the tanh plateau (~12,000-15,000 updates).
    asha(metric, 5000, 3);   // 5,000, 15,000
    asha(metric, 4000, 4);   // 4,000, 16,000
    asha(metric, 2000, 8);   // 2,000, 16,000
    asha(metric, 1000, 16);  // 1,000, 16,000
    asha(metric, 1000, 2);   // 1,000 .. 16,000
    // Two rungs, the second later and later: 1,000 and 1,000 * eta.
    for (int eta : {5, 6, 8, 10, 12, 15, 18}) asha(metric, 1000, eta);
    asha(metric, 2000, 9);  // 2,000, 18,000
    asha(metric, 500, 3);   // 500, 1,500, 4,500, 13,500: decided at 1,000, 2,000, 5,000, 14,000
  }
  for (const char* metric : {"validation_error", "validation_nll"}) {
    for (int grace : {1000, 3000, 5000, 10000, 15000}) {
      for (int min_trials : {3, 5}) {
        if (min_trials == 5 && grace < 5000) continue;
        out.push_back(
            {absl::StrFormat("median %s grace %d min_trials %d",
                             metric == std::string("validation_nll") ? "nll" : "err", grace,
                             min_trials),
             absl::StrFormat("{rule: median, metric: %s, %s, grace_updates: %d, min_trials: %d}",
                             metric, g, grace, min_trials)});
      }
    }
  }
  return out;
}

struct Tally {
  std::vector<double> update_fraction, wall_fraction;
  std::vector<int> model_pass;
  int all_pass = 0;
  int both_goals = 0;  // updates and wall time <= 35% and every model within
  std::vector<std::map<std::string, int>> kept;  // per model: rate kept -> count
};

constexpr double kGoal = 0.35;

void Score(const Sweep& grid, const std::vector<Model>& models, const Outcome& o,
           const Outcome& grid_run, Tally& t) {
  const double uf = static_cast<double>(o.updates) / static_cast<double>(grid_run.updates);
  const double wf = o.makespan / grid_run.makespan;
  t.update_fraction.push_back(uf);
  t.wall_fraction.push_back(wf);
  bool all = true;
  for (size_t m = 0; m < models.size(); ++m) {
    const std::optional<double> kept = KeptRate(grid, models[m].rates, o.finished);
    const bool ok = kept.has_value() && Within(models[m], *kept);
    t.model_pass[m] += ok;
    all &= ok;
    ++t.kept[m][kept.has_value() ? absl::StrFormat("%g", *kept) : "none"];
  }
  t.all_pass += all;
  t.both_goals += all && uf <= kGoal && wf <= kGoal;
}

std::string Pct(double x) { return absl::StrFormat("%.1f", 100 * x); }

absl::Status Study(const Flags& f, const Sweep& grid, const std::vector<Model>& models) {
  std::printf("## The grid's choice per model (the rule of compare.py)\n\n");
  std::printf("| model | best rate | mean test error +- 95%% CI | rates within that CI |\n");
  std::printf("|---|---|---|---|\n");
  for (const Model& m : models) {
    std::vector<std::string> ok;
    for (const auto& [rate, test] : m.grid_test) {
      if (Within(m, rate)) ok.push_back(absl::StrFormat("%g (%s)", rate, Pct(test)));
    }
    std::printf("| %s | %g | %s +- %s | %s |\n", m.name.c_str(), m.best_rate,
                Pct(m.best_test).c_str(), Pct(m.best_half).c_str(),
                absl::StrJoin(ok, ", ").c_str());
  }
  std::printf("\n");

  std::vector<std::pair<std::string, std::string>> candidates =
      f.candidates.empty() ? DefaultCandidates() : f.candidates;
  const size_t n = grid.trials.size();
  const ScheduleSpec none;
  // The grid run per replication (no schedule, index order): the reference.
  const Outcome nominal_grid =
      Simulate(grid, none, IndexOrder(n), std::vector<double>(n, 1.0), f.overhead, f.workers);
  std::vector<Outcome> grid_runs;
  for (int r = 0; r < f.replications; ++r) {
    grid_runs.push_back(Simulate(grid, none, IndexOrder(n),
                                 Speeds(n, f.jitter, f.seed + static_cast<uint64_t>(r)), f.overhead,
                                 f.workers));
  }
  for (const bool lease_order : {true, false}) {
    std::printf(
        "## %s, %d replications (speed factors uniform %.2f-%.2f per trial, seeds %llu..; "
        "%d workers; overhead %.0f updates per trial)\n\n",
        lease_order ? "Real lease order (LeaseOrder with the spec's seed)"
                    : "Random lease order (a seeded permutation per replication)",
        f.replications, 1 - f.jitter, 1 + f.jitter, static_cast<unsigned long long>(f.seed),
        f.workers, f.overhead);
    std::printf(
        "Nominal = the real lease order at jitter 0 (one deterministic run). Updates and "
        "wall = fraction of the grid's (wall: simulated, the grid run in index order with "
        "the same speeds). P(model) = the probability that the rate kept in that model "
        "is within the grid's CI; all 5 = every model; both goals = all 5 and updates and "
        "wall <= 35%%.\n\n");
    std::printf(
        "| candidate | nominal: updates, all 5? | updates mean | updates max | wall mean | "
        "wall max |");
    for (const Model& m : models) std::printf(" P(%s) |", m.name.c_str());
    std::printf(" P(all 5) | P(both goals) |\n|---|---|---|---|---|---|");
    for (size_t m = 0; m < models.size(); ++m) std::printf("---|");
    std::printf("---|---|\n");
    std::vector<std::string> details;
    for (const auto& [label, map] : candidates) {
      ASSIGN_OR_RETURN(ScheduleSpec schedule, ParseSchedule(grid, map));
      const std::vector<int> real_order = LeaseOrder(schedule, grid.spec.seed, static_cast<int>(n));
      Tally nominal_tally{.model_pass = std::vector<int>(models.size()),
                          .kept = std::vector<std::map<std::string, int>>(models.size())};
      Score(
          grid, models,
          Simulate(grid, schedule, real_order, std::vector<double>(n, 1.0), f.overhead, f.workers),
          nominal_grid, nominal_tally);
      Tally t{.model_pass = std::vector<int>(models.size()),
              .kept = std::vector<std::map<std::string, int>>(models.size())};
      for (int r = 0; r < f.replications; ++r) {
        const uint64_t seed = f.seed + static_cast<uint64_t>(r);
        const std::vector<double> speed = Speeds(n, f.jitter, seed);
        const std::vector<int> order = lease_order ? real_order : RandomOrder(n, seed);
        Score(grid, models, Simulate(grid, schedule, order, speed, f.overhead, f.workers),
              grid_runs[static_cast<size_t>(r)], t);
      }
      const auto max = [](const std::vector<double>& v) {
        return *std::max_element(v.begin(), v.end());
      };
      const double reps = f.replications;
      std::printf("| %s | %s, %s | %s | %s | %s | %s |", label.c_str(),
                  Pct(nominal_tally.update_fraction[0]).c_str(),
                  nominal_tally.all_pass ? "yes" : "no", Pct(Mean(t.update_fraction)).c_str(),
                  Pct(max(t.update_fraction)).c_str(), Pct(Mean(t.wall_fraction)).c_str(),
                  Pct(max(t.wall_fraction)).c_str());
      for (int p : t.model_pass) std::printf(" %s |", Pct(p / reps).c_str());
      std::printf(" %s | %s |\n", Pct(t.all_pass / reps).c_str(), Pct(t.both_goals / reps).c_str());
      std::vector<std::string> kept;
      for (size_t m = 0; m < models.size(); ++m) {
        if (t.model_pass[m] == f.replications) continue;
        std::vector<std::string> rates;
        for (const auto& [rate, count] : t.kept[m]) {
          rates.push_back(absl::StrCat(rate, " ", Pct(count / reps), "%"));
        }
        kept.push_back(absl::StrCat(models[m].name, ": ", absl::StrJoin(rates, ", ")));
      }
      if (!kept.empty()) {
        details.push_back(absl::StrCat("- ", label, ": ", absl::StrJoin(kept, "; ")));
      }
    }
    std::printf("\nRates kept (share of replications) in the models not always within:\n\n%s\n\n",
                absl::StrJoin(details, "\n").c_str());
  }
  return absl::OkStatus();
}

absl::Status Main(const Flags& f) {
  ASSIGN_OR_RETURN(Sweep grid, LoadSweep(f.grid));
  for (const Trial& t : grid.trials) {
    if (t.checkpoints.empty() || t.checkpoints.back().step != t.record.spec.updates) {
      return absl::InvalidArgumentError(
          absl::StrCat("grid trial ", t.record.id, " did not run to its last update"));
    }
  }
  ASSIGN_OR_RETURN(std::vector<Model> models, GridModels(grid));
  std::printf("# Schedule replay of %s (%zu trials, spec seed %llu)\n\n", f.grid.c_str(),
              grid.trials.size(), static_cast<unsigned long long>(grid.spec.seed));
  if (!f.check.empty()) RETURN_IF_ERROR(Check(f, grid));
  return Study(f, grid, models);
}

}  // namespace
}  // namespace deepsweep

int main(int argc, char** argv) {
  deepsweep::Flags f;
  bool bad = false;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (i + 1 >= argc) {
      bad = true;
      break;
    }
    const std::string value = argv[++i];
    if (name == "--grid") {
      f.grid = value;
    } else if (name == "--check") {
      f.check = value;
    } else if (name == "--replications") {
      f.replications = std::atoi(value.c_str());
    } else if (name == "--seed") {
      f.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "--jitter") {
      f.jitter = std::atof(value.c_str());
    } else if (name == "--overhead") {
      f.overhead = std::atof(value.c_str());
    } else if (name == "--workers") {
      f.workers = std::atoi(value.c_str());
    } else if (name == "--candidate") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos) {
        bad = true;
      } else {
        f.candidates.emplace_back(value.substr(0, eq), value.substr(eq + 1));
      }
    } else {
      bad = true;
    }
  }
  if (bad || f.grid.empty() || f.replications < 1 || f.workers < 1 || f.jitter < 0 ||
      f.jitter >= 1 || f.overhead < 0) {
    std::fprintf(stderr,
                 "usage: asha_replay --grid GRID.db [--check ASHA.db] [--replications N >= 1] "
                 "[--seed S] [--jitter J in [0, 1)] [--overhead UPDATES >= 0] [--workers W >= 1] "
                 "[--candidate 'LABEL={rule: asha, ...}']...\n");
    return 2;
  }
  const absl::Status s = deepsweep::Main(f);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
