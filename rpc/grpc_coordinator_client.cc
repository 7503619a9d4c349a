#include "rpc/grpc_coordinator_client.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/crc32.h"
#include "common/status_macros.h"
#include "deepsweep/v1/coordinator.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "rpc/channel.h"
#include "rpc/conversions.h"
#include "rpc/snapshot_chunks.h"
#include "rpc/status.h"

namespace deepsweep::rpc {
namespace {

using Stub = v1::CoordinatorService::Stub;

class GrpcCoordinatorClient final : public CoordinatorClient {
 public:
  GrpcCoordinatorClient(const std::shared_ptr<grpc::Channel>& channel, ClientOptions options)
      : stub_(v1::CoordinatorService::NewStub(channel)), options_(std::move(options)) {}

  absl::StatusOr<SubmittedSweep> SubmitSweep(std::string_view spec_yaml,
                                             const SubmitSweepOptions& options) override {
    v1::CreateSweepRequest request;
    request.set_spec_yaml(std::string(spec_yaml));
    request.set_new_sweep(options.new_sweep);
    v1::CreateSweepResponse response;
    RETURN_IF_ERROR(Call(&Stub::CreateSweep, request, &response));
    SubmittedSweep submitted{.existing = response.existing()};
    ASSIGN_OR_RETURN(submitted.sweep, Converted<SweepRecord>(response.sweep()));
    return submitted;
  }

  absl::StatusOr<SweepPlan> PlanSweep(std::string_view spec_yaml) override {
    v1::CreateSweepRequest request;
    request.set_spec_yaml(std::string(spec_yaml));
    request.set_validate_only(true);
    v1::CreateSweepResponse response;
    RETURN_IF_ERROR(Call(&Stub::CreateSweep, request, &response));
    SweepPlan plan;
    ASSIGN_OR_RETURN(plan.sweep, Converted<SweepRecord>(response.sweep()));
    ASSIGN_OR_RETURN(plan.trials, ConvertedList<TrialSpec>(response.trials(), "trials"));
    return plan;
  }

  absl::StatusOr<SweepRecord> GetSweep(SweepId id) override {
    v1::GetSweepRequest request;
    request.set_sweep_id(id);
    v1::Sweep response;
    RETURN_IF_ERROR(Call(&Stub::GetSweep, request, &response));
    return Converted<SweepRecord>(response);
  }

  absl::StatusOr<std::vector<SweepRecord>> ListSweeps() override {
    v1::ListSweepsResponse response;
    RETURN_IF_ERROR(Call(&Stub::ListSweeps, v1::ListSweepsRequest(), &response));
    return ConvertedList<SweepRecord>(response.sweeps(), "sweeps");
  }

  absl::Status CancelSweep(SweepId id) override {
    v1::CancelSweepRequest request;
    request.set_sweep_id(id);
    v1::CancelSweepResponse response;
    return Call(&Stub::CancelSweep, request, &response);
  }

  absl::StatusOr<int64_t> RetryTrials(SweepId sweep, absl::Span<const TrialState> states) override {
    v1::RetryTrialsRequest request;
    request.set_sweep_id(sweep);
    for (TrialState state : states) request.add_states(ToProto(state));
    v1::RetryTrialsResponse response;
    RETURN_IF_ERROR(Call(&Stub::RetryTrials, request, &response));
    return response.retried_count();
  }

  absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query) override {
    v1::ListTrialsRequest request;
    ToProto(query, &request);
    v1::ListTrialsResponse response;
    RETURN_IF_ERROR(Call(&Stub::ListTrials, request, &response));
    return ConvertedList<TrialRecord>(response.trials(), "trials");
  }

  absl::StatusOr<TrialRecord> GetTrial(TrialId id) override {
    v1::GetTrialRequest request;
    request.set_trial_id(id);
    v1::Trial response;
    RETURN_IF_ERROR(Call(&Stub::GetTrial, request, &response));
    return Converted<TrialRecord>(response);
  }

  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId id, std::optional<int> attempt,
                                                         bool with_layer_stats) override {
    v1::GetCheckpointsRequest request;
    request.set_trial_id(id);
    if (attempt) request.set_attempt(*attempt);
    request.set_include_layer_stats(with_layer_stats);
    v1::GetCheckpointsResponse response;
    RETURN_IF_ERROR(Call(&Stub::GetCheckpoints, request, &response));
    return ConvertedList<Checkpoint>(response.checkpoints(), "checkpoints");
  }

  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() override {
    v1::ListWorkersResponse response;
    RETURN_IF_ERROR(Call(&Stub::ListWorkers, v1::ListWorkersRequest(), &response));
    return ConvertedList<WorkerRecord>(response.workers(), "workers");
  }

  absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId id) override {
    v1::ListAttemptsRequest request;
    request.set_trial_id(id);
    v1::ListAttemptsResponse response;
    RETURN_IF_ERROR(Call(&Stub::ListAttempts, request, &response));
    return ConvertedList<TrialAttempt>(response.attempts(), "attempts");
  }

  absl::Status WatchSweep(SweepId id,
                          const std::function<bool(const SweepProgress&)>& on_progress) override {
    v1::WatchSweepRequest request;
    request.set_sweep_id(id);
    grpc::ClientContext context;
    PrepareContext(&context, /*timeout=*/std::nullopt);
    std::unique_ptr<grpc::ClientReader<v1::SweepProgress>> reader =
        stub_->WatchSweep(&context, request);
    v1::SweepProgress message;
    absl::Status conversion;
    bool stopped = false;
    while (reader->Read(&message)) {
      SweepProgress progress;
      conversion = FromProto(message, &progress);
      if (!conversion.ok() || !on_progress(progress)) {
        stopped = true;
        context.TryCancel();
        break;
      }
    }
    const grpc::Status finish = reader->Finish();
    if (!conversion.ok()) return MalformedResponse(conversion);
    if (stopped) return absl::OkStatus();
    return FromGrpcStatus(finish);
  }

  absl::StatusOr<Acquisition> AcquireTrial(const WorkerInfo& worker) override {
    v1::AcquireTrialRequest request;
    ToProto(worker, request.mutable_worker());
    v1::AcquireTrialResponse response;
    RETURN_IF_ERROR(Call(&Stub::AcquireTrial, request, &response));
    return Converted<Acquisition>(response);
  }

  absl::StatusOr<RenewResult> RenewLease(TrialId trial, std::string_view lease_id) override {
    v1::RenewLeaseRequest request;
    request.set_trial_id(trial);
    request.set_lease_id(std::string(lease_id));
    v1::LeaseRenewal response;
    RETURN_IF_ERROR(Call(&Stub::RenewLease, request, &response));
    return Converted<RenewResult>(response);
  }

  absl::StatusOr<RenewResult> ReportCheckpoints(TrialId trial, std::string_view lease_id,
                                                absl::Span<const Checkpoint> checkpoints) override {
    // Reports carry hundreds of layer statistics; an arena turns their many
    // small allocations and frees into a few block allocations.
    google::protobuf::Arena arena;
    auto* request = google::protobuf::Arena::CreateMessage<v1::ReportCheckpointsRequest>(&arena);
    request->set_trial_id(trial);
    request->set_lease_id(std::string(lease_id));
    request->mutable_checkpoints()->Reserve(static_cast<int>(checkpoints.size()));
    for (const Checkpoint& checkpoint : checkpoints) {
      ToProto(checkpoint, request->add_checkpoints());
    }
    v1::LeaseRenewal response;
    RETURN_IF_ERROR(Call(&Stub::ReportCheckpoints, *request, &response));
    return Converted<RenewResult>(response);
  }

  absl::Status CompleteTrial(TrialId trial, std::string_view lease_id,
                             const TrialOutcome& outcome) override {
    v1::CompleteTrialRequest request;
    request.set_trial_id(trial);
    request.set_lease_id(std::string(lease_id));
    ToProto(outcome, &request);
    v1::CompleteTrialResponse response;
    return Call(&Stub::CompleteTrial, request, &response);
  }

  absl::Status FailTrial(TrialId trial, std::string_view lease_id, std::string_view reason,
                         bool retryable) override {
    v1::FailTrialRequest request;
    request.set_trial_id(trial);
    request.set_lease_id(std::string(lease_id));
    request.set_reason(std::string(reason));
    request.set_retryable(retryable);
    v1::FailTrialResponse response;
    return Call(&Stub::FailTrial, request, &response);
  }

  absl::Status ReleaseTrial(TrialId trial, std::string_view lease_id) override {
    v1::ReleaseTrialRequest request;
    request.set_trial_id(trial);
    request.set_lease_id(std::string(lease_id));
    v1::ReleaseTrialResponse response;
    return Call(&Stub::ReleaseTrial, request, &response);
  }

  absl::Status UploadSnapshot(TrialId trial, std::string_view lease_id, int64_t step,
                              std::string_view bytes) override {
    grpc::ClientContext context;
    PrepareContext(&context, options_.snapshot_timeout);
    v1::UploadSnapshotResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::SnapshotChunk>> writer =
        stub_->UploadSnapshot(&context, &response);
    v1::SnapshotChunk header;
    header.set_trial_id(trial);
    header.set_lease_id(std::string(lease_id));
    header.set_step(step);
    header.set_total_bytes(static_cast<int64_t>(bytes.size()));
    header.set_crc32(Crc32(bytes));
    // A refused write means the server ended the call; Finish says why.
    if (WriteSnapshotChunks(header, bytes,
                            [&](const v1::SnapshotChunk& c) { return writer->Write(c); })) {
      writer->WritesDone();
    }
    return FromGrpcStatus(writer->Finish());
  }

  absl::StatusOr<std::optional<DownloadedSnapshot>> DownloadSnapshot(
      TrialId trial, std::string_view lease_id, std::optional<int64_t> step) override {
    v1::DownloadSnapshotRequest request;
    request.set_trial_id(trial);
    request.set_lease_id(std::string(lease_id));
    if (step.has_value()) request.set_step(*step);
    absl::StatusOr<DownloadedSnapshot> got = Download(
        [&](grpc::ClientContext* context) { return stub_->DownloadSnapshot(context, request); });
    if (got.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
    if (!got.ok()) return got.status();
    return std::move(*got);
  }

  absl::StatusOr<DownloadedSnapshot> DownloadWeights(TrialId trial) override {
    v1::DownloadWeightsRequest request;
    request.set_trial_id(trial);
    return Download(
        [&](grpc::ClientContext* context) { return stub_->DownloadWeights(context, request); });
  }

 private:
  // Reads a chunk stream into a verified snapshot.
  absl::StatusOr<DownloadedSnapshot> Download(
      const std::function<
          std::unique_ptr<grpc::ClientReader<v1::SnapshotChunk>>(grpc::ClientContext*)>& start) {
    grpc::ClientContext context;
    PrepareContext(&context, options_.snapshot_timeout);
    std::unique_ptr<grpc::ClientReader<v1::SnapshotChunk>> reader = start(&context);
    SnapshotAssembler assembler(int64_t{1} << 40);
    v1::SnapshotChunk chunk;
    absl::Status assembled;
    while (assembled.ok() && reader->Read(&chunk)) assembled = assembler.Add(chunk);
    if (!assembled.ok()) context.TryCancel();
    const grpc::Status finish = reader->Finish();
    RETURN_IF_ERROR(assembled);
    RETURN_IF_ERROR(FromGrpcStatus(finish));
    RETURN_IF_ERROR(assembler.Finish());
    const uint32_t crc = Crc32(assembler.bytes());
    if (crc != assembler.header().crc32()) {
      return absl::DataLossError(absl::StrCat("downloaded snapshot of trial ",
                                              assembler.header().trial_id(), " fails its crc32"));
    }
    return DownloadedSnapshot{.step = assembler.header().step(),
                              .attempt = assembler.header().attempt(),
                              .bytes = assembler.TakeBytes()};
  }

  // Token metadata, readiness and (for unary calls) the deadline.
  void PrepareContext(grpc::ClientContext* context, std::optional<absl::Duration> timeout) const {
    if (!options_.token.empty()) {
      context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
    }
    context->set_wait_for_ready(options_.wait_for_ready);
    if (timeout) {
      context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(*timeout));
    }
  }

  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    PrepareContext(&context, options_.call_timeout);
    return FromGrpcStatus((stub_.get()->*method)(&context, request, response));
  }

  // A response the server sent that does not convert is the server's fault.
  template <typename Domain, typename Proto>
  static absl::StatusOr<Domain> Converted(const Proto& proto) {
    Domain value;
    absl::Status status = FromProto(proto, &value);
    if (!status.ok()) return MalformedResponse(status);
    return value;
  }

  template <typename Domain, typename Proto>
  static absl::StatusOr<std::vector<Domain>> ConvertedList(
      const google::protobuf::RepeatedPtrField<Proto>& protos, absl::string_view field) {
    std::vector<Domain> values;
    absl::Status status = FromProtoList(protos, field, &values);
    if (!status.ok()) return MalformedResponse(status);
    return values;
  }

  static absl::Status MalformedResponse(const absl::Status& status) {
    return absl::InternalError(
        absl::StrCat("malformed response from the coordinator: ", status.message()));
  }

  std::unique_ptr<Stub> stub_;
  const ClientOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CoordinatorClient>> ConnectCoordinator(
    const ClientOptions& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, CreateChannel(options));
  return std::make_unique<GrpcCoordinatorClient>(std::move(channel), options);
}

}  // namespace deepsweep::rpc
