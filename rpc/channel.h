// The one place a gRPC channel to the coordinator is made from ClientOptions:
// plain TCP or TLS (CA file or system roots, optional name override), message
// size limit and connection sharing. ConnectCoordinator and CheckHealth both
// use it, so a health probe reaches the server exactly as clients do.
//
// Errors: INVALID_ARGUMENT for an empty target or a non-positive timeout;
// ReadFileContents' errors for the CA file.
// Thread-safety: a pure function of its options (and the file system).
#ifndef DEEPSWEEP_RPC_CHANNEL_H_
#define DEEPSWEEP_RPC_CHANNEL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "rpc/grpc_coordinator_client.h"

namespace deepsweep::rpc {

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(const ClientOptions& options);

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_CHANNEL_H_
