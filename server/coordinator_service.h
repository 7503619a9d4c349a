// CoordinatorServiceImpl: the deepsweep.v1.CoordinatorService gRPC adapter.
//
// A thin translation layer with no decisions of its own: each method checks
// that the caller's bearer token has a role allowing the method (the Access
// each method names is the per-RPC table of server/auth.h), converts the request to domain types (a
// request that does not convert gets INVALID_ARGUMENT naming the field), calls the Coordinator,
// converts the answer back, and maps the status once (rpc::ToGrpcStatus). Failed calls are logged
// here, at the edge.
//
// WatchSweep polls the Coordinator's change counter; StopStreams() ends every
// open stream promptly (the server calls it before shutting down).
//
// Thread-safety: gRPC calls the methods concurrently; the adapter keeps no
// mutable state besides the stop notification and the failed-login throttle.
#ifndef DEEPSWEEP_SERVER_COORDINATOR_SERVICE_H_
#define DEEPSWEEP_SERVER_COORDINATOR_SERVICE_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/log_throttle.h"
#include "core/coordinator.h"
#include "core/snapshots.h"
#include "deepsweep/v1/coordinator.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/auth.h"
#include "server/rpc_metrics.h"

namespace deepsweep::server {

struct CoordinatorServiceOptions {
  // Longest a WatchSweep stream waits for a change before it checks whether
  // its client is still there.
  absl::Duration watch_poll_interval = absl::Milliseconds(500);
  // Shortest gap between two messages of one WatchSweep stream, so a busy
  // sweep does not flood a terminal with updates.
  absl::Duration watch_min_interval = absl::Milliseconds(100);
  // With nothing changed, a WatchSweep stream sends its unchanged snapshot
  // this long after the last message, so clients keep their display live.
  absl::Duration watch_heartbeat = absl::Seconds(1);
  // Failed logins (UNAUTHENTICATED) are logged at most once per interval,
  // with the number held back, so a token guesser cannot flood the log.
  absl::Duration failed_login_log_interval = absl::Seconds(10);
  // Where BackupDatabase writes its copy before streaming it (then removes
  // it): beside the database, on the volume that has room for it.
  std::string backup_directory = ".";
  // Bytes per BackupChunk.
  int backup_chunk_bytes = 1 << 20;
};

// Writes a consistent copy of the database to a new file at the path given
// (SqliteSweepStore::Backup); empty when the server keeps no file.
using DatabaseBackup = std::function<absl::Status(const std::string& destination)>;

class CoordinatorServiceImpl final : public v1::CoordinatorService::Service {
 public:
  // `coordinator`, `authenticator` and `clock` must outlive the service.
  // `clock` times WatchSweep's heartbeats and minimum interval (the
  // coordinator's clock, so tests drive both with one FakeClock); the waits
  // themselves stay bounded by `watch_poll_interval` of real time.
  // `metrics`, if not null, records every call's method, code and latency
  // and must outlive the service. `snapshots` may be null (no snapshot
  // storage, e.g. --db :memory:): the snapshot methods then answer
  // FAILED_PRECONDITION.
  CoordinatorServiceImpl(Coordinator* coordinator, const TokenAuthenticator* authenticator,
                         const Clock* clock, CoordinatorServiceOptions options = {},
                         DatabaseBackup backup = nullptr, RpcMetrics* metrics = nullptr,
                         Snapshots* snapshots = nullptr);

  // Ends every open WatchSweep stream with UNAVAILABLE and refuses new ones.
  void StopStreams();

  grpc::Status CreateSweep(grpc::ServerContext* context, const v1::CreateSweepRequest* request,
                           v1::CreateSweepResponse* response) override;
  grpc::Status GetSweep(grpc::ServerContext* context, const v1::GetSweepRequest* request,
                        v1::Sweep* response) override;
  grpc::Status ListSweeps(grpc::ServerContext* context, const v1::ListSweepsRequest* request,
                          v1::ListSweepsResponse* response) override;
  grpc::Status CancelSweep(grpc::ServerContext* context, const v1::CancelSweepRequest* request,
                           v1::CancelSweepResponse* response) override;
  grpc::Status RetryTrials(grpc::ServerContext* context, const v1::RetryTrialsRequest* request,
                           v1::RetryTrialsResponse* response) override;
  grpc::Status ListTrials(grpc::ServerContext* context, const v1::ListTrialsRequest* request,
                          v1::ListTrialsResponse* response) override;
  grpc::Status GetTrial(grpc::ServerContext* context, const v1::GetTrialRequest* request,
                        v1::Trial* response) override;
  grpc::Status GetCheckpoints(grpc::ServerContext* context,
                              const v1::GetCheckpointsRequest* request,
                              v1::GetCheckpointsResponse* response) override;
  grpc::Status ListWorkers(grpc::ServerContext* context, const v1::ListWorkersRequest* request,
                           v1::ListWorkersResponse* response) override;
  grpc::Status ListAttempts(grpc::ServerContext* context, const v1::ListAttemptsRequest* request,
                            v1::ListAttemptsResponse* response) override;
  grpc::Status WatchSweep(grpc::ServerContext* context, const v1::WatchSweepRequest* request,
                          grpc::ServerWriter<v1::SweepProgress>* writer) override;
  grpc::Status AcquireTrial(grpc::ServerContext* context, const v1::AcquireTrialRequest* request,
                            v1::AcquireTrialResponse* response) override;
  grpc::Status RenewLease(grpc::ServerContext* context, const v1::RenewLeaseRequest* request,
                          v1::LeaseRenewal* response) override;
  grpc::Status ReportCheckpoints(grpc::ServerContext* context,
                                 const v1::ReportCheckpointsRequest* request,
                                 v1::LeaseRenewal* response) override;
  grpc::Status CompleteTrial(grpc::ServerContext* context, const v1::CompleteTrialRequest* request,
                             v1::CompleteTrialResponse* response) override;
  grpc::Status FailTrial(grpc::ServerContext* context, const v1::FailTrialRequest* request,
                         v1::FailTrialResponse* response) override;
  grpc::Status ReleaseTrial(grpc::ServerContext* context, const v1::ReleaseTrialRequest* request,
                            v1::ReleaseTrialResponse* response) override;
  grpc::Status BackupDatabase(grpc::ServerContext* context,
                              const v1::BackupDatabaseRequest* request,
                              grpc::ServerWriter<v1::BackupChunk>* writer) override;
  grpc::Status UploadSnapshot(grpc::ServerContext* context,
                              grpc::ServerReader<v1::SnapshotChunk>* reader,
                              v1::UploadSnapshotResponse* response) override;
  grpc::Status DownloadSnapshot(grpc::ServerContext* context,
                                const v1::DownloadSnapshotRequest* request,
                                grpc::ServerWriter<v1::SnapshotChunk>* writer) override;
  grpc::Status DownloadWeights(grpc::ServerContext* context,
                               const v1::DownloadWeightsRequest* request,
                               grpc::ServerWriter<v1::SnapshotChunk>* writer) override;

 private:
  // The snapshot use cases, or FAILED_PRECONDITION without storage.
  absl::StatusOr<Snapshots*> RequireSnapshots() const;
  // The snapshot retention of a trial that may have just ended (no-op while
  // it runs or without storage); the call that ended it stands even if this
  // fails, which is logged.
  void ApplyRetention(TrialId trial);

  // Authenticates, checks the caller's role allows `access`, runs `body`
  // (which returns absl::Status), logs a failure and maps the status to gRPC's.
  template <typename Body>
  grpc::Status Handle(grpc::ServerContext* context, std::string_view method, Access access,
                      Body body);

  Coordinator* const coordinator_;
  const TokenAuthenticator* const authenticator_;
  const Clock* const clock_;
  const CoordinatorServiceOptions options_;
  const DatabaseBackup backup_;
  RpcMetrics* const metrics_;
  Snapshots* const snapshots_;
  absl::Notification streams_stopped_;
  LogThrottle failed_logins_;
};

}  // namespace deepsweep::server

#endif  // DEEPSWEEP_SERVER_COORDINATOR_SERVICE_H_
