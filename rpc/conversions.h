// Conversions between the deepsweep.v1 protos and the domain types of core/.
//
// ToProto never fails: every domain value has a wire form. FromProto checks
// what the wire can carry but the domain cannot (unspecified or unknown enum
// values, out-of-range numbers, a missing required message) and returns
// INVALID_ARGUMENT naming the field, so the server rejects a malformed request
// before it reaches the Coordinator. Plain values (strings, numbers the
// Coordinator validates itself) are copied as they are.
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_RPC_CONVERSIONS_H_
#define DEEPSWEEP_RPC_CONVERSIONS_H_

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/coordinator.h"
#include "core/trial.h"
#include "deepsweep/v1/coordinator.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "rpc/coordinator_client.h"

namespace deepsweep::rpc {

// --- Enums -------------------------------------------------------------------
v1::TrialState ToProto(TrialState state);
absl::Status FromProto(v1::TrialState proto, TrialState* out);
v1::LayerQuantity ToProto(LayerQuantity quantity);
absl::Status FromProto(v1::LayerQuantity proto, LayerQuantity* out);
v1::SweepState ToProto(SweepState state);
absl::Status FromProto(v1::SweepState proto, SweepState* out);
v1::TrialFilter::Operator ToProto(TrialCondition::Op op);
absl::Status FromProto(v1::TrialFilter::Operator proto, TrialCondition::Op* out);

// --- Time ----------------------------------------------------------------------
void ToProto(absl::Time time, google::protobuf::Timestamp* out);
absl::Time FromProto(const google::protobuf::Timestamp& proto);
void ToProto(absl::Duration duration, google::protobuf::Duration* out);
absl::Duration FromProto(const google::protobuf::Duration& proto);

// --- Trials --------------------------------------------------------------------
void ToProto(const DatasetSpec& spec, v1::DatasetSpec* out);
absl::Status FromProto(const v1::DatasetSpec& proto, DatasetSpec* out);
void ToProto(const TrialSpec& spec, v1::TrialSpec* out);
absl::Status FromProto(const v1::TrialSpec& proto, TrialSpec* out);
void ToProto(const LayerStat& stat, v1::LayerStat* out);
absl::Status FromProto(const v1::LayerStat& proto, LayerStat* out);
void ToProto(const Checkpoint& checkpoint, v1::Checkpoint* out);
absl::Status FromProto(const v1::Checkpoint& proto, Checkpoint* out);
void ToProto(const TrialRecord& trial, v1::Trial* out);
absl::Status FromProto(const v1::Trial& proto, TrialRecord* out);
void ToProto(const Lease& lease, v1::Lease* out);
absl::Status FromProto(const v1::Lease& proto, Lease* out);

// --- Sweeps --------------------------------------------------------------------
void ToProto(const TrialCounts& counts, v1::TrialCounts* out);
absl::Status FromProto(const v1::TrialCounts& proto, TrialCounts* out);
void ToProto(const SweepRecord& sweep, v1::Sweep* out);
absl::Status FromProto(const v1::Sweep& proto, SweepRecord* out);
void ToProto(const SweepProgress& progress, v1::SweepProgress* out);
absl::Status FromProto(const v1::SweepProgress& proto, SweepProgress* out);

// --- Workers -------------------------------------------------------------------
void ToProto(const WorkerInfo& info, v1::WorkerInfo* out);
absl::Status FromProto(const v1::WorkerInfo& proto, WorkerInfo* out);
void ToProto(const WorkerRecord& worker, v1::Worker* out);
absl::Status FromProto(const v1::Worker& proto, WorkerRecord* out);
void ToProto(const TrialAttempt& attempt, v1::TrialAttempt* out);
absl::Status FromProto(const v1::TrialAttempt& proto, TrialAttempt* out);

// --- Requests and responses ----------------------------------------------------
void ToProto(const TrialCondition& condition, v1::TrialFilter* out);
absl::Status FromProto(const v1::TrialFilter& proto, TrialCondition* out);
void ToProto(const TrialQuery& query, v1::ListTrialsRequest* out);
absl::Status FromProto(const v1::ListTrialsRequest& proto, TrialQuery* out);
void ToProto(const Acquisition& acquisition, v1::AcquireTrialResponse* out);
absl::Status FromProto(const v1::AcquireTrialResponse& proto, Acquisition* out);
void ToProto(const RenewResult& renewal, v1::LeaseRenewal* out);
absl::Status FromProto(const v1::LeaseRenewal& proto, RenewResult* out);
// CompleteTrialRequest's state and reason.
void ToProto(const TrialOutcome& outcome, v1::CompleteTrialRequest* out);
absl::Status FromProto(const v1::CompleteTrialRequest& proto, TrialOutcome* out);

// Returns `status` with its message prefixed by a field path, so nested
// errors read "checkpoints[3].layer_stats[0].quantity: ...". OK stays OK.
absl::Status WithFieldPrefix(absl::string_view field, absl::Status status);

// Every element of a repeated field, stopping at the first error, which names
// the element's index.
template <typename Domain, typename Proto>
absl::Status FromProtoList(const google::protobuf::RepeatedPtrField<Proto>& protos,
                           absl::string_view field, std::vector<Domain>* out) {
  out->clear();
  out->reserve(protos.size());
  for (int i = 0; i < protos.size(); ++i) {
    absl::Status status = FromProto(protos[i], &out->emplace_back());
    if (!status.ok()) {
      return WithFieldPrefix(absl::StrCat(field, "[", i, "]"), std::move(status));
    }
  }
  return absl::OkStatus();
}

template <typename Domain, typename Proto>
void ToProtoList(const std::vector<Domain>& values,
                 google::protobuf::RepeatedPtrField<Proto>* out) {
  out->Reserve(static_cast<int>(values.size()));
  for (const Domain& value : values) ToProto(value, out->Add());
}

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_CONVERSIONS_H_
