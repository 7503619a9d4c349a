// The one mapping between absl::Status and grpc::Status.
//
// absl's canonical codes are numerically gRPC's codes, so the mapping keeps
// code and message unchanged in both directions; what it adds is a single
// place where the server turns a core status into a wire status and the
// client turns it back.
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_RPC_STATUS_H_
#define DEEPSWEEP_RPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace deepsweep::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_STATUS_H_
