// coordinator_load: a load generator for deepsweep-server.
//
// Starts a real server in this process on 127.0.0.1 (port 0, a fresh SQLite
// file), creates one sweep, and runs N simulated workers: threads with their
// own gRPC connection, each looping AcquireTrial, ReportCheckpoints (10
// checkpoints, 5 layers x 3 quantities of statistics with 20-bin histograms,
// in --batches calls) and CompleteTrial until no trial is left. Reports
// trials/s, p50/p99 latency per call, every error that reached a client, and
// checks in the SQLite file that every trial, checkpoint and layer-stat row
// is there (unless --db :memory: asks for the in-memory store, or
// --null-service for no coordinator at all: floors of the RPC layer). With
// --duration the workers stop taking trials after that many seconds instead
// (the load suite: bench/run_load_suite.sh), and with an external server its
// resident memory is read before and after the load (--max-rss-growth-mb
// bounds the growth). Run by hand (bench/run_coordinator_bench.sh), never as a
// test.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "deepsweep/v1/coordinator.grpc.pb.h"
#include "fmt/core.h"
#include "grpcpp/grpcpp.h"
#include "rpc/conversions.h"
#include "rpc/grpc_coordinator_client.h"
#include "server/server.h"
#include "sqlite3.h"

namespace deepsweep::bench {
namespace {

struct LoadOptions {
  int workers = 64;
  int64_t trials = 20000;
  int checkpoints = 10;
  int batches = 1;  // ReportCheckpoints calls per trial
  int layers = 5;
  int bins = 20;
  std::string db;  // empty = a fresh file under /tmp
  // A deepsweep-server already running on 127.0.0.1:server_port (pid
  // server_pid, writing `db`) instead of one in this process, so that the
  // server's CPU and the simulated workers' are measured apart.
  int server_port = 0;
  int server_pid = 0;
  // "sync" or "callback": instead of deepsweep-server, a service that stores
  // nothing and answers the three calls at once, on that gRPC API.
  std::string null_service;
  // > 0: each worker takes no new trial once this many seconds have passed,
  // rather than running until no trial is left.
  double duration_s = 0;
  // With an external server: fail when its resident memory grew by more than
  // this many MiB over the load (0 = report only).
  double max_rss_growth_mb = 0;
};

enum Call { kAcquire, kReport, kComplete, kCallCount };
constexpr const char* kCallNames[kCallCount] = {"AcquireTrial", "ReportCheckpoints",
                                                "CompleteTrial"};

// What one simulated worker saw.
struct WorkerLog {
  std::vector<double> latency_us[kCallCount];
  std::map<std::string, int64_t> errors;  // "CODE: message" -> count
  int64_t completed = 0;
};

// A sweep of exactly `trials` trials: `width` takes 1..W, repeated over seeds.
std::string SweepSpecYaml(int64_t trials) {
  const int64_t widths = std::min<int64_t>(trials, 1000);
  const int64_t seeds = (trials + widths - 1) / widths;
  std::string values;
  for (int64_t w = 1; w <= widths; ++w) absl::StrAppend(&values, w == 1 ? "" : ", ", w);
  return absl::StrCat("name: load-test\ntraining: {updates: 1000, checkpoint_every: 100}\n",
                      "grid:\n  width: [", values, "]\nseeds: ", seeds, "\n");
}

std::vector<Checkpoint> MakeCheckpoints(const LoadOptions& options, uint64_t salt) {
  std::vector<Checkpoint> checkpoints;
  for (int64_t c = 1; c <= options.checkpoints; ++c) {
    Checkpoint checkpoint{.step = c * 100,
                          .examples_seen = c * 1000,
                          .train_nll = 2.0 / static_cast<double>(c),
                          .test_error = 0.9 / static_cast<double>(c),
                          .test_nll = 2.1 / static_cast<double>(c),
                          .validation_error = 0.88 / static_cast<double>(c),
                          .validation_nll = 2.05 / static_cast<double>(c),
                          .wall_seconds = 0.5 * static_cast<double>(c)};
    for (int layer = 1; layer <= options.layers; ++layer) {
      for (LayerQuantity q :
           {LayerQuantity::kActivation, LayerQuantity::kBackpropGrad, LayerQuantity::kWeightGrad}) {
        LayerStat stat{.layer = layer,
                       .quantity = q,
                       .mean = 0.01 * static_cast<double>(salt % 97),
                       .std = 0.3,
                       .p02 = -0.9,
                       .p50 = 0.01,
                       .p98 = 0.9,
                       .saturated_fraction = 0.1,
                       .jacobian_sv_mean = 0.8,
                       .hist_lo = -1,
                       .hist_hi = 1};
        stat.histogram.assign(options.bins, 1.0f / static_cast<float>(options.bins));
        checkpoint.layer_stats.push_back(std::move(stat));
      }
    }
    checkpoints.push_back(std::move(checkpoint));
  }
  return checkpoints;
}

void RunWorker(int index, int port, const LoadOptions& options, std::atomic<bool>* start,
               const std::chrono::steady_clock::time_point* stop_at, WorkerLog* log) {
  rpc::ClientOptions client_options;
  client_options.target = absl::StrCat("127.0.0.1:", port);
  client_options.own_connection = true;
  client_options.call_timeout = absl::Seconds(60);
  std::unique_ptr<rpc::CoordinatorClient> client = *rpc::ConnectCoordinator(client_options);
  const WorkerInfo worker{.worker_id = absl::StrCat("load-", index),
                          .host = "localhost",
                          .pid = getpid(),
                          .version = "bench",
                          .cores = 1};
  const std::vector<Checkpoint> checkpoints = MakeCheckpoints(options, index);
  const size_t per_batch = (checkpoints.size() + options.batches - 1) / options.batches;
  int64_t error_budget = 1000;  // a broken server must not spin the bench forever
  auto record_error = [log, &error_budget](const absl::Status& status) {
    --error_budget;
    ++log->errors[absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                               status.message().substr(0, 120))];
  };
  while (!start->load()) std::this_thread::yield();

  while (error_budget > 0) {
    auto begin = std::chrono::steady_clock::now();
    if (options.duration_s > 0 && begin >= *stop_at) return;
    auto elapsed_us = [&begin] {
      const auto now = std::chrono::steady_clock::now();
      const double us = std::chrono::duration<double, std::micro>(now - begin).count();
      begin = now;
      return us;
    };
    absl::StatusOr<Acquisition> acquired = client->AcquireTrial(worker);
    log->latency_us[kAcquire].push_back(elapsed_us());
    if (!acquired.ok()) {
      record_error(acquired.status());
      continue;
    }
    if (!acquired->trial.has_value()) return;  // every trial is taken
    const TrialId trial = acquired->trial->id;
    const std::string& lease = acquired->lease->lease_id;
    bool ok = true;
    for (size_t first = 0; first < checkpoints.size() && ok; first += per_batch) {
      const size_t count = std::min(per_batch, checkpoints.size() - first);
      absl::StatusOr<RenewResult> renewal = client->ReportCheckpoints(
          trial, lease, absl::MakeConstSpan(checkpoints).subspan(first, count));
      log->latency_us[kReport].push_back(elapsed_us());
      if (!renewal.ok()) {
        record_error(renewal.status());
        ok = false;
      }
    }
    if (!ok) continue;
    absl::Status completed = client->CompleteTrial(trial, lease, {.state = TrialState::kSucceeded});
    log->latency_us[kComplete].push_back(elapsed_us());
    if (!completed.ok()) {
      record_error(completed);
      continue;
    }
    ++log->completed;
  }
}

// The answers of a service that stores nothing: `trials` leases of one fixed
// trial spec, then "nothing pending"; every report renews for a minute.
class NullAnswers {
 public:
  explicit NullAnswers(int64_t trials) : trials_(trials) {}

  void Acquire(v1::AcquireTrialResponse* response) {
    const int64_t n = handed_out_.fetch_add(1);
    Acquisition acquisition{.retry_after = absl::Seconds(1)};
    if (n < trials_) {
      const absl::Time now = absl::Now();
      TrialRecord& trial = acquisition.trial.emplace();
      trial.id = n + 1;
      trial.sweep_id = 1;
      trial.index = static_cast<int>(n);
      trial.state = TrialState::kLeased;
      trial.attempt = 1;
      trial.attempt_limit = 3;
      trial.updated_at = now;
      acquisition.lease = Lease{.trial_id = trial.id,
                                .lease_id = absl::StrCat(trial.id, "-1"),
                                .attempt = 1,
                                .deadline = now + absl::Minutes(1),
                                .ttl = absl::Minutes(1)};
    }
    rpc::ToProto(acquisition, response);
  }
  void Renew(v1::LeaseRenewal* response) {
    rpc::ToProto(RenewResult{.deadline = absl::Now() + absl::Minutes(1), .ttl = absl::Minutes(1)},
                 response);
  }

 private:
  const int64_t trials_;
  std::atomic<int64_t> handed_out_{0};
};

// The null service on gRPC's sync API, as deepsweep-server uses it.
class NullSyncService final : public v1::CoordinatorService::Service {
 public:
  explicit NullSyncService(NullAnswers* answers) : answers_(answers) {}
  grpc::Status AcquireTrial(grpc::ServerContext*, const v1::AcquireTrialRequest*,
                            v1::AcquireTrialResponse* response) override {
    answers_->Acquire(response);
    return grpc::Status::OK;
  }
  grpc::Status ReportCheckpoints(grpc::ServerContext*, const v1::ReportCheckpointsRequest*,
                                 v1::LeaseRenewal* response) override {
    answers_->Renew(response);
    return grpc::Status::OK;
  }
  grpc::Status CompleteTrial(grpc::ServerContext*, const v1::CompleteTrialRequest*,
                             v1::CompleteTrialResponse*) override {
    return grpc::Status::OK;
  }

 private:
  NullAnswers* const answers_;
};

// The same on gRPC's callback API: no thread is held per call.
class NullCallbackService final : public v1::CoordinatorService::CallbackService {
 public:
  explicit NullCallbackService(NullAnswers* answers) : answers_(answers) {}
  grpc::ServerUnaryReactor* AcquireTrial(grpc::CallbackServerContext* context,
                                         const v1::AcquireTrialRequest*,
                                         v1::AcquireTrialResponse* response) override {
    answers_->Acquire(response);
    return Done(context);
  }
  grpc::ServerUnaryReactor* ReportCheckpoints(grpc::CallbackServerContext* context,
                                              const v1::ReportCheckpointsRequest*,
                                              v1::LeaseRenewal* response) override {
    answers_->Renew(response);
    return Done(context);
  }
  grpc::ServerUnaryReactor* CompleteTrial(grpc::CallbackServerContext* context,
                                          const v1::CompleteTrialRequest*,
                                          v1::CompleteTrialResponse*) override {
    return Done(context);
  }

 private:
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  NullAnswers* const answers_;
};

// Starts the null service on 127.0.0.1 (port 0); nullptr if it cannot listen.
std::unique_ptr<grpc::Server> StartNullService(grpc::Service* service, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.RegisterService(service);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              server::Server::Options().max_idle_threads);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  return *port != 0 ? std::move(server) : nullptr;
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

// SELECT COUNT(*) ... on the database file, read-only, after the server stopped.
int64_t CountRows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* statement = nullptr;
  int64_t count = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    count = sqlite3_column_int64(statement, 0);
  } else {
    std::fprintf(stderr, "query failed: %s: %s\n", sql.c_str(), sqlite3_errmsg(db));
  }
  sqlite3_finalize(statement);
  return count;
}

// CPU seconds (user + system) in a /proc .../stat file whose command name
// starts with `prefix` (fields 14 and 15, in clock ticks); 0 otherwise.
double StatCpuSeconds(const std::filesystem::path& path, std::string_view prefix) {
  std::ifstream file(path);
  const std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos ||
      !std::string_view(stat).substr(open + 1, close - open - 1).starts_with(prefix)) {
    return 0;
  }
  std::istringstream fields(stat.substr(close + 2));
  std::string skipped;
  for (int field = 3; field < 14; ++field) fields >> skipped;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Of process `pid` ("self" for this one): its threads named `prefix`...
double ThreadCpuSeconds(const std::string& pid, std::string_view prefix) {
  double seconds = 0;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), error)) {
    seconds += StatCpuSeconds(task.path() / "stat", prefix);
  }
  return seconds;
}

// Resident memory of process `pid` in MiB (VmRSS of /proc/PID/status); 0
// when unreadable.
double ResidentMiB(const std::string& pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return 0;
}

// ... and the whole process, ended threads included.
double ProcessCpuSeconds(const std::string& pid) {
  return StatCpuSeconds(absl::StrCat("/proc/", pid, "/stat"), "");
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

int Run(const LoadOptions& options) {
  const bool external = options.server_port != 0;
  if (external && (options.db.empty() || options.db == ":memory:" || options.server_pid <= 0)) {
    std::fprintf(stderr, "--server-port needs --server-pid and --db (the server's file)\n");
    return 1;
  }
  const bool in_memory = options.db == ":memory:";
  const std::string db_path =
      options.db.empty() ? absl::StrCat("/tmp/deepsweep_load_", getpid(), ".db") : options.db;
  if (!in_memory && !external) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path + suffix);
  }

  const bool null_service = !options.null_service.empty();
  NullAnswers null_answers(options.trials);
  NullSyncService null_sync(&null_answers);
  NullCallbackService null_callback(&null_answers);
  std::unique_ptr<grpc::Server> null_server;
  int null_port = 0;
  if (null_service) {
    null_server = StartNullService(options.null_service == "callback"
                                       ? static_cast<grpc::Service*>(&null_callback)
                                       : &null_sync,
                                   &null_port);
    if (null_server == nullptr) {
      std::fprintf(stderr, "cannot start the null service\n");
      return 1;
    }
  }

  absl::StatusOr<std::unique_ptr<server::Server>> server;
  if (!external && !null_service) {
    server::Server::Options server_options;
    server_options.address = "127.0.0.1:0";
    server_options.database_path = db_path;
    server_options.coordinator.max_trials_per_sweep = options.trials;
    server = server::Server::Start(server_options);
    if (!server.ok()) {
      std::fprintf(stderr, "cannot start the server: %s\n", server.status().ToString().c_str());
      return 1;
    }
  }
  const int port = null_service ? null_port : (external ? options.server_port : (*server)->port());
  const std::string server_pid = external ? absl::StrCat(options.server_pid) : "self";
  int64_t total = options.trials;
  if (!null_service) {
    std::unique_ptr<rpc::CoordinatorClient> admin =
        *rpc::ConnectCoordinator({.target = absl::StrCat("127.0.0.1:", port)});
    absl::StatusOr<SweepRecord> sweep = admin->CreateSweep(SweepSpecYaml(options.trials));
    if (!sweep.ok()) {
      std::fprintf(stderr, "cannot create the sweep: %s\n", sweep.status().ToString().c_str());
      return 1;
    }
    total = sweep->counts.total();
  }

  fmt::print(
      "deepsweep coordinator load: {} workers, {} trials, {} checkpoints x {} layers x 3 "
      "quantities x {} bins per trial in {} report call(s)\n",
      options.workers, total, options.checkpoints, options.layers, options.bins, options.batches);
  fmt::print("load average before: {} (cores: {})\n", LoadAverage(),
             std::thread::hardware_concurrency());

  std::vector<WorkerLog> logs(options.workers);
  std::vector<std::thread> threads;
  threads.reserve(options.workers);
  std::atomic<bool> start{false};
  std::chrono::steady_clock::time_point stop_at;
  for (int i = 0; i < options.workers; ++i) {
    threads.emplace_back(RunWorker, i, port, std::cref(options), &start, &stop_at, &logs[i]);
  }
  const double rss_before = external ? ResidentMiB(server_pid) : 0;
  const double writer_before = ThreadCpuSeconds(server_pid, "sqlite-writer");
  const double checkpointer_before = ThreadCpuSeconds(server_pid, "sqlite-checkpt");
  const double server_before = external ? ProcessCpuSeconds(server_pid) : 0;
  rusage usage_before;
  getrusage(RUSAGE_SELF, &usage_before);
  const auto begin = std::chrono::steady_clock::now();
  stop_at = begin + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(options.duration_s));
  start = true;
  for (std::thread& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  rusage usage_after;
  getrusage(RUSAGE_SELF, &usage_after);
  const double writer_cpu = ThreadCpuSeconds(server_pid, "sqlite-writer") - writer_before;
  const double checkpointer_cpu =
      ThreadCpuSeconds(server_pid, "sqlite-checkpt") - checkpointer_before;
  const double server_cpu = external ? ProcessCpuSeconds(server_pid) - server_before : 0;
  auto cpu_seconds = [](const rusage& u) {
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
           1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  fmt::print("load average after:  {}\n", LoadAverage());
  bool rss_ok = true;
  if (external) {
    const double rss_after = ResidentMiB(server_pid);
    rss_ok = options.max_rss_growth_mb <= 0 || rss_after - rss_before <= options.max_rss_growth_mb;
    fmt::print(
        "server resident memory: {:.1f} MiB before the load, {:.1f} MiB after ({:+.1f} MiB{})\n",
        rss_before, rss_after, rss_after - rss_before,
        options.max_rss_growth_mb > 0
            ? fmt::format("; bound {:.0f} MiB: {}", options.max_rss_growth_mb,
                          rss_ok ? "within" : "EXCEEDED")
            : "");
  }

  int64_t completed = 0;
  std::map<std::string, int64_t> errors;
  std::vector<double> latencies[kCallCount];
  for (WorkerLog& log : logs) {
    completed += log.completed;
    for (const auto& [error, count] : log.errors) errors[error] += count;
    for (int c = 0; c < kCallCount; ++c) {
      latencies[c].insert(latencies[c].end(), log.latency_us[c].begin(), log.latency_us[c].end());
    }
  }
  const double cpu = cpu_seconds(usage_after) - cpu_seconds(usage_before);
  fmt::print(
      "completed {} trials in {:.2f} s: {:.0f} trials/s (process CPU {:.1f} s = {:.2f} "
      "cores, {:.0f} us per trial)\n",
      completed, seconds, static_cast<double>(completed) / seconds, cpu, cpu / seconds,
      1e6 * cpu / static_cast<double>(std::max<int64_t>(completed, 1)));
  // The store's two threads are its own; every other thread may run either
  // end of a call (gRPC's pollers serve whatever socket is ready), so the
  // rest is not split between server and simulated workers.
  auto per_trial_us = [&](double seconds) {
    return 1e6 * seconds / static_cast<double>(std::max<int64_t>(completed, 1));
  };
  if (external) {
    fmt::print(
        "  CPU per trial: server process {:.0f} us ({:.2f} cores; SQLite writer {:.0f} us, WAL "
        "checkpointer {:.0f} us), simulated workers (this process) {:.0f} us\n",
        per_trial_us(server_cpu), server_cpu / seconds, per_trial_us(writer_cpu),
        per_trial_us(checkpointer_cpu), per_trial_us(cpu));
  } else if (null_service || in_memory) {
    fmt::print("  CPU per trial: {:.0f} us (no SQLite)\n", per_trial_us(cpu));
  } else {
    fmt::print(
        "  CPU per trial: SQLite writer {:.0f} us, WAL checkpointer {:.0f} us, the rest {:.0f} "
        "us\n",
        per_trial_us(writer_cpu), per_trial_us(checkpointer_cpu),
        per_trial_us(cpu - writer_cpu - checkpointer_cpu));
  }
  for (int c = 0; c < kCallCount; ++c) {
    fmt::print("  {:<18} calls {:8}  p50 {:8.2f} ms  p99 {:8.2f} ms  max {:8.2f} ms\n",
               kCallNames[c], latencies[c].size(), Percentile(latencies[c], 0.50) / 1000,
               Percentile(latencies[c], 0.99) / 1000, Percentile(latencies[c], 1.0) / 1000);
  }
  int64_t error_count = 0;
  for (const auto& [error, count] : errors) {
    fmt::print("  error x{}: {}\n", count, error);
    error_count += count;
  }
  fmt::print("errors reaching clients: {}\n", error_count);

  if (null_service) {
    null_server->Shutdown();
    fmt::print("database: none (null {} service), {}/{} trials completed\n", options.null_service,
               completed, total);
    return (options.duration_s > 0 || completed == total) && error_count == 0 ? 0 : 1;
  }
  if (!external) {
    (*server)->Shutdown();
    server->reset();
  }
  if (in_memory) {  // the floor of the RPC layer: nothing was stored to count
    fmt::print("database: none (in-memory store), {}/{} trials completed\n", completed, total);
    return (options.duration_s > 0 || completed == total) && error_count == 0 ? 0 : 1;
  }

  // Every row accounted for, counted in the file itself (read-only, beside a
  // server still running when it is external).
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "cannot open %s\n", db_path.c_str());
    return 1;
  }
  const int64_t stats_per_checkpoint = int64_t{3} * options.layers;
  const int64_t succeeded = CountRows(db, "SELECT COUNT(*) FROM trials WHERE state = 'succeeded'");
  const int64_t checkpoints = CountRows(db, "SELECT COUNT(*) FROM checkpoints");
  const int64_t layer_stats = CountRows(db, "SELECT COUNT(*) FROM layer_stats");
  const int64_t leases = CountRows(db, "SELECT COUNT(*) FROM leases");
  sqlite3_close(db);
  // A timed run ends with trials left pending; what was completed must all be there.
  const int64_t want = options.duration_s > 0 ? completed : total;
  const bool rows_ok = succeeded == want && checkpoints == want * options.checkpoints &&
                       layer_stats == want * options.checkpoints * stats_per_checkpoint &&
                       completed == want;
  fmt::print(
      "database: {}/{} trials succeeded, {} checkpoints (want {}), {} layer_stats (want {}), {} "
      "leases: {}\n",
      succeeded, want, checkpoints, want * options.checkpoints, layer_stats,
      want * options.checkpoints * stats_per_checkpoint, leases,
      rows_ok ? "every row accounted for" : "MISMATCH");
  if (options.db.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path + suffix);
  }
  return rows_ok && rss_ok && error_count == 0 ? 0 : 1;
}

}  // namespace
}  // namespace deepsweep::bench

int main(int argc, char** argv) {
  deepsweep::bench::LoadOptions options;
  CLI::App app{"Load generator for deepsweep-server (loopback only)"};
  app.add_option("--workers", options.workers, "simulated workers (threads)")
      ->capture_default_str();
  app.add_option("--trials", options.trials, "trials in the sweep")->capture_default_str();
  app.add_option("--checkpoints", options.checkpoints, "checkpoints per trial")
      ->capture_default_str();
  app.add_option("--batches", options.batches, "ReportCheckpoints calls per trial")
      ->capture_default_str();
  app.add_option("--layers", options.layers, "hidden layers per checkpoint")->capture_default_str();
  app.add_option("--bins", options.bins, "histogram bins per layer stat")->capture_default_str();
  app.add_option("--null-service", options.null_service,
                 "instead of deepsweep-server, a service that stores nothing and answers at "
                 "once, on gRPC's sync or callback API: the floor of the RPC layer")
      ->check(CLI::IsMember({"sync", "callback"}));
  app.add_option("--server-port", options.server_port,
                 "use the deepsweep-server on 127.0.0.1:PORT instead of one in this process");
  app.add_option("--server-pid", options.server_pid, "that server's pid (to read its CPU time)");
  app.add_option("--db", options.db,
                 "SQLite file to use and keep (default: temp, removed); :memory: = the "
                 "in-memory store, to measure the RPC layer alone");
  app.add_option("--duration", options.duration_s,
                 "seconds after which workers take no new trial (0 = until none is left)");
  app.add_option("--max-rss-growth-mb", options.max_rss_growth_mb,
                 "with --server-port: fail if the server's resident memory grew by more (MiB)");
  CLI11_PARSE(app, argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return deepsweep::bench::Run(options);
}
