#include "server/coordinator_service.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "common/crc32.h"
#include "common/status_macros.h"
#include "rpc/conversions.h"
#include "rpc/snapshot_chunks.h"
#include "rpc/status.h"
#include "rpc/sweep_progress.h"
#include "spdlog/spdlog.h"

namespace deepsweep::server {
namespace {

using rpc::FromProto;
using rpc::ToProto;

// Errors the server causes are worth an operator's attention; errors the
// caller causes (bad input, stale leases, unknown ids) are routine.
spdlog::level::level_enum LogLevelFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return spdlog::level::err;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kResourceExhausted:
      return spdlog::level::warn;
    default:
      return spdlog::level::debug;
  }
}

}  // namespace

CoordinatorServiceImpl::CoordinatorServiceImpl(Coordinator* coordinator,
                                               const TokenAuthenticator* authenticator,
                                               const Clock* clock,
                                               CoordinatorServiceOptions options,
                                               DatabaseBackup backup, RpcMetrics* metrics,
                                               Snapshots* snapshots)
    : coordinator_(coordinator),
      authenticator_(authenticator),
      clock_(clock),
      options_(std::move(options)),
      backup_(std::move(backup)),
      metrics_(metrics),
      snapshots_(snapshots),
      failed_logins_(options_.failed_login_log_interval) {}

void CoordinatorServiceImpl::ApplyRetention(TrialId trial) {
  if (snapshots_ == nullptr) return;
  if (absl::Status kept = snapshots_->TrialEnded(trial); !kept.ok()) {
    spdlog::error("trial {}: snapshot retention: {}", trial, kept.ToString());
  }
}

absl::StatusOr<Snapshots*> CoordinatorServiceImpl::RequireSnapshots() const {
  if (snapshots_ == nullptr) {
    return absl::FailedPreconditionError(
        "this coordinator keeps no snapshots (its database is :memory:)");
  }
  return snapshots_;
}

void CoordinatorServiceImpl::StopStreams() {
  if (!streams_stopped_.HasBeenNotified()) streams_stopped_.Notify();
}

template <typename Body>
grpc::Status CoordinatorServiceImpl::Handle(grpc::ServerContext* context, std::string_view method,
                                            Access access, Body body) {
  const absl::Time start = absl::Now();
  absl::Status status = authenticator_
                            ->Authorize(context->client_metadata(), access,
                                        absl::string_view(method.data(), method.size()))
                            .status();
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    if (std::optional<int64_t> held = failed_logins_.Admit(clock_->Now())) {
      spdlog::warn("{} from {}: {} ({} more failed logins in the last {} not logged)", method,
                   context->peer(), status.ToString(), *held,
                   absl::FormatDuration(options_.failed_login_log_interval));
    }
    return rpc::ToGrpcStatus(status);
  }
  if (status.ok()) status = body();
  if (metrics_ != nullptr) metrics_->Record(method, status.code(), absl::Now() - start);
  if (!status.ok()) {
    spdlog::log(LogLevelFor(status.code()), "{} from {}: {}", method, context->peer(),
                status.ToString());
  }
  return rpc::ToGrpcStatus(status);
}

grpc::Status CoordinatorServiceImpl::CreateSweep(grpc::ServerContext* context,
                                                 const v1::CreateSweepRequest* request,
                                                 v1::CreateSweepResponse* response) {
  return Handle(context, "CreateSweep", Access::kSubmit, [&]() -> absl::Status {
    if (request->validate_only()) {
      ASSIGN_OR_RETURN(SweepPlan plan, coordinator_->PlanSweep(request->spec_yaml()));
      ToProto(plan.sweep, response->mutable_sweep());
      rpc::ToProtoList(plan.trials, response->mutable_trials());
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(
        SubmittedSweep submitted,
        coordinator_->SubmitSweep(request->spec_yaml(),
                                  SubmitSweepOptions{.new_sweep = request->new_sweep()}));
    const SweepRecord& sweep = submitted.sweep;
    if (submitted.existing) {
      spdlog::info("sweep {} '{}' resubmitted with the same spec: kept", sweep.id, sweep.name);
    } else {
      spdlog::info("created sweep {} '{}' with {} trials", sweep.id, sweep.name,
                   sweep.counts.total());
    }
    ToProto(sweep, response->mutable_sweep());
    response->set_existing(submitted.existing);
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::GetSweep(grpc::ServerContext* context,
                                              const v1::GetSweepRequest* request,
                                              v1::Sweep* response) {
  return Handle(context, "GetSweep", Access::kRead, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(SweepRecord sweep, coordinator_->GetSweep(request->sweep_id()));
    ToProto(sweep, response);
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::ListSweeps(grpc::ServerContext* context,
                                                const v1::ListSweepsRequest* /*request*/,
                                                v1::ListSweepsResponse* response) {
  return Handle(context, "ListSweeps", Access::kRead, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<SweepRecord> sweeps, coordinator_->ListSweeps());
    rpc::ToProtoList(sweeps, response->mutable_sweeps());
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::CancelSweep(grpc::ServerContext* context,
                                                 const v1::CancelSweepRequest* request,
                                                 v1::CancelSweepResponse* /*response*/) {
  return Handle(context, "CancelSweep", Access::kSubmit, [&]() -> absl::Status {
    RETURN_IF_ERROR(coordinator_->CancelSweep(request->sweep_id()));
    spdlog::info("cancelled sweep {}", request->sweep_id());
    // Its pending trials ended now; the leased ones end later, pruned by the
    // call that ends them or at the server's next start.
    if (snapshots_ != nullptr) {
      if (absl::StatusOr<int> pruned = snapshots_->PruneEndedTrials(); !pruned.ok()) {
        spdlog::error("snapshot retention after cancelling sweep {}: {}", request->sweep_id(),
                      pruned.status().ToString());
      }
    }
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::RetryTrials(grpc::ServerContext* context,
                                                 const v1::RetryTrialsRequest* request,
                                                 v1::RetryTrialsResponse* response) {
  return Handle(context, "RetryTrials", Access::kSubmit, [&]() -> absl::Status {
    std::vector<TrialState> states(request->states_size());
    for (int i = 0; i < request->states_size(); ++i) {
      RETURN_IF_ERROR(rpc::WithFieldPrefix(absl::StrCat("states[", i, "]"),
                                           FromProto(request->states(i), &states[i])));
    }
    ASSIGN_OR_RETURN(int64_t retried, coordinator_->RetryTrials(request->sweep_id(), states));
    response->set_retried_count(retried);
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::ListTrials(grpc::ServerContext* context,
                                                const v1::ListTrialsRequest* request,
                                                v1::ListTrialsResponse* response) {
  return Handle(context, "ListTrials", Access::kRead, [&]() -> absl::Status {
    TrialQuery query;
    RETURN_IF_ERROR(FromProto(*request, &query));
    ASSIGN_OR_RETURN(std::vector<TrialRecord> trials, coordinator_->ListTrials(query));
    rpc::ToProtoList(trials, response->mutable_trials());
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::GetTrial(grpc::ServerContext* context,
                                              const v1::GetTrialRequest* request,
                                              v1::Trial* response) {
  return Handle(context, "GetTrial", Access::kRead, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(TrialRecord trial, coordinator_->GetTrial(request->trial_id()));
    ToProto(trial, response);
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::GetCheckpoints(grpc::ServerContext* context,
                                                    const v1::GetCheckpointsRequest* request,
                                                    v1::GetCheckpointsResponse* response) {
  return Handle(context, "GetCheckpoints", Access::kRead, [&]() -> absl::Status {
    const std::optional<int> attempt =
        request->has_attempt() ? std::optional<int>(request->attempt()) : std::nullopt;
    ASSIGN_OR_RETURN(
        std::vector<Checkpoint> checkpoints,
        coordinator_->GetCheckpoints(request->trial_id(), attempt, request->include_layer_stats()));
    rpc::ToProtoList(checkpoints, response->mutable_checkpoints());
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::ListWorkers(grpc::ServerContext* context,
                                                 const v1::ListWorkersRequest* /*request*/,
                                                 v1::ListWorkersResponse* response) {
  return Handle(context, "ListWorkers", Access::kRead, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<WorkerRecord> workers, coordinator_->ListWorkers());
    rpc::ToProtoList(workers, response->mutable_workers());
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::ListAttempts(grpc::ServerContext* context,
                                                  const v1::ListAttemptsRequest* request,
                                                  v1::ListAttemptsResponse* response) {
  return Handle(context, "ListAttempts", Access::kRead, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<TrialAttempt> attempts,
                     coordinator_->ListAttempts(request->trial_id()));
    rpc::ToProtoList(attempts, response->mutable_attempts());
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::WatchSweep(grpc::ServerContext* context,
                                                const v1::WatchSweepRequest* request,
                                                grpc::ServerWriter<v1::SweepProgress>* writer) {
  return Handle(context, "WatchSweep", Access::kRead, [&]() -> absl::Status {
    // Reading the version before the sweep means a change made in between is
    // seen by the next WaitForChange rather than lost.
    uint64_t version = coordinator_->WaitForChange(0, absl::ZeroDuration());
    rpc::ProgressPacer pacer(options_.watch_heartbeat);
    while (true) {
      ASSIGN_OR_RETURN(const rpc::SweepProgress progress,
                       rpc::ReadSweepProgress(*coordinator_, request->sweep_id()));
      if (pacer.ShouldSend(progress, clock_->Now())) {
        v1::SweepProgress message;
        ToProto(progress, &message);
        if (!writer->Write(message)) return absl::CancelledError("client went away");
      }
      if (rpc::IsSettled(progress)) return absl::OkStatus();
      // Wait for a change or the next heartbeat, then at least until
      // watch_min_interval after the last message; both waits end early when
      // the server stops.
      const uint64_t seen = version;
      while (version == seen && clock_->Now() < pacer.next_heartbeat()) {
        if (context->IsCancelled()) return absl::CancelledError("client went away");
        if (streams_stopped_.HasBeenNotified()) {
          return absl::UnavailableError("the coordinator is shutting down");
        }
        version = coordinator_->WaitForChange(
            seen, std::min(options_.watch_poll_interval, pacer.next_heartbeat() - clock_->Now()));
      }
      if (context->IsCancelled()) return absl::CancelledError("client went away");
      const absl::Duration rest = options_.watch_min_interval - (clock_->Now() - pacer.last_sent());
      if (rest > absl::ZeroDuration() && streams_stopped_.WaitForNotificationWithTimeout(rest)) {
        return absl::UnavailableError("the coordinator is shutting down");
      }
      if (streams_stopped_.HasBeenNotified()) {
        return absl::UnavailableError("the coordinator is shutting down");
      }
    }
  });
}

grpc::Status CoordinatorServiceImpl::AcquireTrial(grpc::ServerContext* context,
                                                  const v1::AcquireTrialRequest* request,
                                                  v1::AcquireTrialResponse* response) {
  return Handle(context, "AcquireTrial", Access::kWork, [&]() -> absl::Status {
    WorkerInfo worker;
    RETURN_IF_ERROR(rpc::WithFieldPrefix("worker", FromProto(request->worker(), &worker)));
    ASSIGN_OR_RETURN(Acquisition acquisition, coordinator_->AcquireTrial(worker));
    ToProto(acquisition, response);
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::RenewLease(grpc::ServerContext* context,
                                                const v1::RenewLeaseRequest* request,
                                                v1::LeaseRenewal* response) {
  return Handle(context, "RenewLease", Access::kWork, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(RenewResult renewal,
                     coordinator_->RenewLease(request->trial_id(), request->lease_id()));
    if (renewal.stopped.has_value()) ApplyRetention(request->trial_id());
    ToProto(renewal, response);
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::ReportCheckpoints(grpc::ServerContext* context,
                                                       const v1::ReportCheckpointsRequest* request,
                                                       v1::LeaseRenewal* response) {
  return Handle(context, "ReportCheckpoints", Access::kWork, [&]() -> absl::Status {
    std::vector<Checkpoint> checkpoints;
    RETURN_IF_ERROR(rpc::FromProtoList(request->checkpoints(), "checkpoints", &checkpoints));
    ASSIGN_OR_RETURN(
        RenewResult renewal,
        coordinator_->ReportCheckpoints(request->trial_id(), request->lease_id(), checkpoints));
    // A schedule's rule may have ended the trial (pruned, or diverged by the stuck rule).
    if (renewal.stopped.has_value()) ApplyRetention(request->trial_id());
    ToProto(renewal, response);
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::CompleteTrial(grpc::ServerContext* context,
                                                   const v1::CompleteTrialRequest* request,
                                                   v1::CompleteTrialResponse* /*response*/) {
  return Handle(context, "CompleteTrial", Access::kWork, [&]() -> absl::Status {
    TrialOutcome outcome;
    RETURN_IF_ERROR(FromProto(*request, &outcome));
    RETURN_IF_ERROR(coordinator_->CompleteTrial(request->trial_id(), request->lease_id(), outcome));
    ApplyRetention(request->trial_id());  // keep_weights
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::FailTrial(grpc::ServerContext* context,
                                               const v1::FailTrialRequest* request,
                                               v1::FailTrialResponse* /*response*/) {
  return Handle(context, "FailTrial", Access::kWork, [&]() -> absl::Status {
    RETURN_IF_ERROR(coordinator_->FailTrial(request->trial_id(), request->lease_id(),
                                            request->reason(), request->retryable()));
    ApplyRetention(request->trial_id());  // failed for good, or pending again (kept)
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::ReleaseTrial(grpc::ServerContext* context,
                                                  const v1::ReleaseTrialRequest* request,
                                                  v1::ReleaseTrialResponse* /*response*/) {
  return Handle(context, "ReleaseTrial", Access::kWork, [&]() -> absl::Status {
    RETURN_IF_ERROR(coordinator_->ReleaseTrial(request->trial_id(), request->lease_id()));
    ApplyRetention(request->trial_id());  // a released trial of a cancelled sweep has ended
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::BackupDatabase(grpc::ServerContext* context,
                                                    const v1::BackupDatabaseRequest* /*request*/,
                                                    grpc::ServerWriter<v1::BackupChunk>* writer) {
  return Handle(context, "BackupDatabase", Access::kAdmin, [&]() -> absl::Status {
    if (!backup_) {
      return absl::FailedPreconditionError(
          "this server keeps its sweeps in memory (--db :memory:): there is no database to back "
          "up");
    }
    // A name of its own per call, so concurrent backups do not collide.
    static std::atomic<uint64_t> serial{0};
    const std::filesystem::path path =
        std::filesystem::path(options_.backup_directory) /
        absl::StrCat(".deepsweep-backup-", getpid(), "-", serial.fetch_add(1), ".db");
    const absl::Time started = absl::Now();
    RETURN_IF_ERROR(backup_(path.string()));
    struct Remove {
      std::filesystem::path path;
      ~Remove() {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
      }
    } remove{path};
    std::ifstream file(path, std::ios::binary);
    std::error_code size_error;
    const uintmax_t total = std::filesystem::file_size(path, size_error);
    if (!file || size_error) {
      return absl::InternalError(absl::StrCat("cannot read the backup at ", path.string()));
    }
    v1::BackupChunk chunk;
    chunk.set_total_bytes(static_cast<int64_t>(total));
    std::string buffer(static_cast<size_t>(std::max(1, options_.backup_chunk_bytes)), '\0');
    uintmax_t sent = 0;
    while (sent < total) {
      file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const std::streamsize got = file.gcount();
      if (got <= 0) return absl::InternalError("the backup file ended early");
      chunk.set_data(buffer.data(), static_cast<size_t>(got));
      if (!writer->Write(chunk)) return absl::CancelledError("client went away");
      sent += static_cast<uintmax_t>(got);
    }
    spdlog::info("database backup of {} bytes streamed in {:.2f} s", total,
                 absl::ToDoubleSeconds(absl::Now() - started));
    return absl::OkStatus();
  });
}

grpc::Status CoordinatorServiceImpl::UploadSnapshot(grpc::ServerContext* context,
                                                    grpc::ServerReader<v1::SnapshotChunk>* reader,
                                                    v1::UploadSnapshotResponse* /*response*/) {
  return Handle(context, "UploadSnapshot", Access::kWork, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Snapshots * snapshots, RequireSnapshots());
    rpc::SnapshotAssembler assembler(int64_t{1} << 40);
    v1::SnapshotChunk chunk;
    while (reader->Read(&chunk)) {
      if (!assembler.started()) {
        RETURN_IF_ERROR(snapshots->CheckSize(chunk.total_bytes()));
        // Refuse a stale lease before taking megabytes from it.
        RETURN_IF_ERROR(coordinator_->CheckLease(chunk.trial_id(), chunk.lease_id()).status());
      }
      RETURN_IF_ERROR(assembler.Add(chunk));
    }
    if (context->IsCancelled()) return absl::CancelledError("the client went away mid-upload");
    RETURN_IF_ERROR(assembler.Finish());
    const v1::SnapshotChunk& h = assembler.header();
    return snapshots->Upload(h.trial_id(), h.lease_id(), h.step(), assembler.bytes(), h.crc32());
  });
}

namespace {

// Streams `bytes` as chunks after a header naming them.
absl::Status SendSnapshot(TrialId trial, int64_t step, int attempt, std::string_view bytes,
                          grpc::ServerWriter<v1::SnapshotChunk>* writer) {
  v1::SnapshotChunk header;
  header.set_trial_id(trial);
  header.set_step(step);
  header.set_attempt(attempt);
  header.set_total_bytes(static_cast<int64_t>(bytes.size()));
  header.set_crc32(Crc32(bytes));
  if (!rpc::WriteSnapshotChunks(header, bytes,
                                [&](const v1::SnapshotChunk& c) { return writer->Write(c); })) {
    return absl::CancelledError("the client went away mid-download");
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status CoordinatorServiceImpl::DownloadSnapshot(
    grpc::ServerContext* context, const v1::DownloadSnapshotRequest* request,
    grpc::ServerWriter<v1::SnapshotChunk>* writer) {
  return Handle(context, "DownloadSnapshot", Access::kWork, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Snapshots * snapshots, RequireSnapshots());
    ASSIGN_OR_RETURN(std::optional<StoredSnapshot> stored,
                     snapshots->Fetch(request->trial_id(), request->lease_id(),
                                      request->has_step() ? std::optional<int64_t>(request->step())
                                                          : std::nullopt));
    if (!stored.has_value()) {
      return absl::NotFoundError(absl::StrCat("trial ", request->trial_id(), " has no snapshot"));
    }
    return SendSnapshot(request->trial_id(), stored->info.step, stored->info.attempt, stored->bytes,
                        writer);
  });
}

grpc::Status CoordinatorServiceImpl::DownloadWeights(
    grpc::ServerContext* context, const v1::DownloadWeightsRequest* request,
    grpc::ServerWriter<v1::SnapshotChunk>* writer) {
  return Handle(context, "DownloadWeights", Access::kRead, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Snapshots * snapshots, RequireSnapshots());
    ASSIGN_OR_RETURN(TrialRecord trial, coordinator_->GetTrial(request->trial_id()));
    ASSIGN_OR_RETURN(std::string bytes, snapshots->FinalWeights(request->trial_id()));
    return SendSnapshot(trial.id, trial.spec.updates, trial.attempt, bytes, writer);
  });
}

}  // namespace deepsweep::server
