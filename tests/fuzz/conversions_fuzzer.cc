// Fuzz target: the proto -> domain conversions of rpc/conversions.h, on the
// messages a server decodes from a client (the requests of ListTrials,
// AcquireTrial, ReportCheckpoints, CompleteTrial, RetryTrials) and those a
// worker or the CLI decodes from a server (Trial, Sweep, SweepProgress,
// AcquireTrialResponse, LeaseRenewal). Input: one selector byte, then the
// message's wire bytes.
//
// Properties: never crashes; a refusal is INVALID_ARGUMENT; what is accepted
// converts back (ToProto) to a message that is accepted again and gives the
// same message once more (the conversion is stable, nothing is lost in a
// second trip).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "deepsweep/v1/coordinator.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/stubs/logging.h"
#include "rpc/conversions.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace v1 = deepsweep::v1;
using deepsweep::rpc::FromProto;
using deepsweep::rpc::ToProto;

std::string Wire(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

void CheckRefusal(const absl::Status& status, const char* what) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, "%s: unexpected error %s", what,
             status.ToString().c_str());
  FUZZ_CHECK(!status.message().empty(), "%s: an error without a message", what);
}

// Domain d1 = FromProto(proto); p1 = ToProto(d1); d2 = FromProto(p1) must
// succeed and ToProto(d2) must equal p1.
template <typename Domain, typename Proto>
void RoundTrip(const Proto& proto, const char* what) {
  Domain first;
  const absl::Status status = FromProto(proto, &first);
  if (!status.ok()) {
    CheckRefusal(status, what);
    return;
  }
  Proto once;
  ToProto(first, &once);
  Domain second;
  const absl::Status again = FromProto(once, &second);
  FUZZ_CHECK(again.ok(), "%s: its own ToProto is refused: %s", what, again.ToString().c_str());
  Proto twice;
  ToProto(second, &twice);
  FUZZ_CHECK(Wire(once) == Wire(twice), "%s: a second round trip differs:\n%s\nvs\n%s", what,
             once.DebugString().c_str(), twice.DebugString().c_str());
}

template <typename Proto>
bool Parse(const uint8_t* data, size_t size, Proto* out) {
  return out->ParseFromArray(data, static_cast<int>(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf logs every string field that is not UTF-8 as an ERROR line: most
  // mutated inputs. Silenced, so the fuzzer spends its time fuzzing.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  if (size < 1 || size > (1 << 20)) return 0;
  const uint8_t selector = data[0];
  ++data;
  --size;
  switch (selector % 10) {
    case 0: {
      v1::ListTrialsRequest request;
      if (Parse(data, size, &request)) {
        RoundTrip<deepsweep::TrialQuery>(request, "ListTrialsRequest");
      }
      break;
    }
    case 1: {
      v1::AcquireTrialRequest request;
      if (Parse(data, size, &request)) {
        RoundTrip<deepsweep::WorkerInfo>(request.worker(), "AcquireTrialRequest.worker");
      }
      break;
    }
    case 2: {
      v1::ReportCheckpointsRequest request;
      if (!Parse(data, size, &request)) break;
      std::vector<deepsweep::Checkpoint> checkpoints;
      const absl::Status status =
          deepsweep::rpc::FromProtoList(request.checkpoints(), "checkpoints", &checkpoints);
      if (!status.ok()) {
        CheckRefusal(status, "ReportCheckpointsRequest");
        break;
      }
      FUZZ_CHECK(checkpoints.size() == static_cast<size_t>(request.checkpoints_size()),
                 "%zu of %d checkpoints", checkpoints.size(), request.checkpoints_size());
      for (const v1::Checkpoint& checkpoint : request.checkpoints()) {
        RoundTrip<deepsweep::Checkpoint>(checkpoint, "ReportCheckpointsRequest.checkpoints");
      }
      break;
    }
    case 3: {
      v1::CompleteTrialRequest request;
      if (Parse(data, size, &request)) {
        RoundTrip<deepsweep::TrialOutcome>(request, "CompleteTrialRequest");
      }
      break;
    }
    case 4: {
      v1::RetryTrialsRequest request;
      if (!Parse(data, size, &request)) break;
      for (int i = 0; i < request.states_size(); ++i) {
        deepsweep::TrialState state;
        const absl::Status status = FromProto(request.states(i), &state);
        if (!status.ok()) {
          CheckRefusal(status, "RetryTrialsRequest.states");
          continue;
        }
        FUZZ_CHECK(ToProto(state) == request.states(i), "state %d changed in a round trip",
                   static_cast<int>(request.states(i)));
      }
      break;
    }
    case 5: {
      v1::Trial trial;
      if (Parse(data, size, &trial)) RoundTrip<deepsweep::TrialRecord>(trial, "Trial");
      break;
    }
    case 6: {
      v1::Sweep sweep;
      if (Parse(data, size, &sweep)) RoundTrip<deepsweep::SweepRecord>(sweep, "Sweep");
      break;
    }
    case 7: {
      v1::SweepProgress progress;
      if (Parse(data, size, &progress)) {
        RoundTrip<deepsweep::rpc::SweepProgress>(progress, "SweepProgress");
      }
      break;
    }
    case 8: {
      v1::AcquireTrialResponse response;
      if (Parse(data, size, &response)) {
        RoundTrip<deepsweep::Acquisition>(response, "AcquireTrialResponse");
      }
      break;
    }
    case 9: {
      v1::LeaseRenewal renewal;
      if (Parse(data, size, &renewal)) {
        RoundTrip<deepsweep::RenewResult>(renewal, "LeaseRenewal");
      }
      break;
    }
  }
  return 0;
}
