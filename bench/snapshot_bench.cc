// Snapshot costs for the paper's largest Shapeset net, 1024 -> 1000 x 5 -> 9
// tanh (19 MB of weights and state), run by hand (docs/PERFORMANCE.md,
// "Snapshots"):
//   - serialize: the trainer writing its snapshot (ml/trainer.h), per snapshot;
//   - update: one SGD update at batch 10, to turn the above into an overhead;
//   - file put / read: FileSnapshotStore (write, fsync, rename, fsync dir);
//   - sqlite blob put / read: the same bytes as a BLOB row in a WAL database
//     with synchronous=FULL (the alternative design, measured, not used);
//   - server upload / download: through deepsweep-server's gRPC service on
//     loopback, in chunks, with the checks (lease, CRC) and the file put.
// Usage: snapshot_bench [DIR] [REPEATS]   (DIR defaults to /tmp).
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/crc32.h"
#include "ml/data/dataset_factory.h"
#include "ml/trainer.h"
#include "rpc/grpc_coordinator_client.h"
#include "server/server.h"
#include "store/file_snapshot_store.h"

namespace deepsweep {
namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

void Report(const char* what, const std::vector<double>& ms) {
  double sum = 0, best = 1e300;
  for (double m : ms) {
    sum += m;
    best = std::min(best, m);
  }
  std::printf("%-22s mean %9.2f ms  best %9.2f ms  (%zu runs)\n", what, sum / ms.size(), best,
              ms.size());
}

int Main(int argc, char** argv) {
  const std::filesystem::path dir =
      std::filesystem::path(argc > 1 ? argv[1] : "/tmp") / "deepsweep_snapshot_bench";
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  // Training with a snapshot every 40 updates; the hook times serialization.
  ml::DatasetOptions data;
  data.validation_examples = 100;
  data.test_examples = 100;
  data.probe_examples = 10;
  auto dataset = ml::LoadDataset(data, 1);
  if (!dataset.ok()) return std::fprintf(stderr, "%s\n", dataset.status().ToString().c_str()), 1;
  ml::TrainConfig config;
  config.updates = 40 * repeats;
  config.checkpoint_every = config.updates;
  config.probe_examples = 0;
  config.jacobian_examples = 0;
  absl::Time asked;
  std::vector<double> serialize;
  std::string snapshot;
  ml::TrainHooks hooks;
  hooks.snapshot_due = [&](int64_t step) {
    asked = absl::Now();
    return step % 40 == 0;
  };
  hooks.on_snapshot = [&](int64_t, std::string bytes) {
    serialize.push_back(Ms(absl::Now() - asked));
    snapshot = std::move(bytes);
  };
  const absl::Time start = absl::Now();
  if (auto r = ml::Trainer(config).Train(*dataset, hooks); !r.ok()) {
    return std::fprintf(stderr, "%s\n", r.status().ToString().c_str()), 1;
  }
  const double total_ms = Ms(absl::Now() - start);
  double serialize_total = 0;
  for (double m : serialize) serialize_total += m;
  std::printf("snapshot bytes         %zu\n", snapshot.size());
  std::printf("update (batch 10)      %9.3f ms  (incl. data; %d updates)\n",
              (total_ms - serialize_total) / config.updates, static_cast<int>(config.updates));
  Report("serialize", serialize);

  // Files.
  auto files = FileSnapshotStore::Open((dir / "files").string());
  if (!files.ok()) return 1;
  const uint32_t crc = Crc32(snapshot);
  std::vector<double> put, read;
  for (int r = 0; r < repeats; ++r) {
    absl::Time t = absl::Now();
    if (!(*files)->Put({.trial_id = 1, .step = r, .attempt = 1, .crc32 = crc}, snapshot).ok())
      return 1;
    put.push_back(Ms(absl::Now() - t));
    t = absl::Now();
    if (!(*files)->Read(1, r).ok()) return 1;
    read.push_back(Ms(absl::Now() - t));
    if (!(*files)->Prune(1, 1).ok()) return 1;
  }
  Report("file put (fsync)", put);
  Report("file read (+crc)", read);

  // SQLite blobs.
  sqlite3* db = nullptr;
  sqlite3_open((dir / "blobs.db").string().c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE snapshots (trial INTEGER PRIMARY KEY, bytes BLOB NOT NULL);",
               nullptr, nullptr, nullptr);
  put.clear();
  read.clear();
  for (int r = 0; r < repeats; ++r) {
    absl::Time t = absl::Now();
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO snapshots VALUES (1, ?1)", -1, &s, nullptr);
    sqlite3_bind_blob64(s, 1, snapshot.data(), snapshot.size(), SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) return 1;
    sqlite3_finalize(s);
    put.push_back(Ms(absl::Now() - t));
    t = absl::Now();
    sqlite3_prepare_v2(db, "SELECT bytes FROM snapshots WHERE trial = 1", -1, &s, nullptr);
    if (sqlite3_step(s) != SQLITE_ROW) return 1;
    std::string back(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                     static_cast<size_t>(sqlite3_column_bytes(s, 0)));
    sqlite3_finalize(s);
    if (Crc32(back) != crc) return 1;
    read.push_back(Ms(absl::Now() - t));
  }
  sqlite3_close(db);
  Report("sqlite blob put (FULL)", put);
  Report("sqlite blob read (+crc)", read);

  // Through the server on loopback.
  server::Server::Options options;
  options.address = "127.0.0.1:0";
  options.database_path = (dir / "server.db").string();
  auto server = server::Server::Start(options);
  if (!server.ok()) return std::fprintf(stderr, "%s\n", server.status().ToString().c_str()), 1;
  rpc::ClientOptions client_options;
  client_options.target = "127.0.0.1:" + std::to_string((*server)->port());
  auto client = rpc::ConnectCoordinator(client_options);
  if (!client.ok() || !(*client)->CreateSweep("name: bench\ntraining: {updates: 1000000}\n").ok()) {
    return 1;
  }
  auto lease = (*client)->AcquireTrial({.worker_id = "bench"});
  if (!lease.ok() || !lease->trial.has_value()) return 1;
  put.clear();
  read.clear();
  for (int r = 0; r < repeats; ++r) {
    absl::Time t = absl::Now();
    if (!(*client)->UploadSnapshot(lease->trial->id, lease->lease->lease_id, r, snapshot).ok())
      return 1;
    put.push_back(Ms(absl::Now() - t));
    t = absl::Now();
    auto back = (*client)->DownloadSnapshot(lease->trial->id, lease->lease->lease_id, std::nullopt);
    if (!back.ok() || !back->has_value()) return 1;
    read.push_back(Ms(absl::Now() - t));
  }
  Report("server upload", put);
  Report("server download", read);
  (*server)->Shutdown();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace deepsweep

int main(int argc, char** argv) { return deepsweep::Main(argc, argv); }
