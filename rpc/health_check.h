// CheckHealth: asks a server's standard gRPC health service
// (grpc.health.v1.Health/Check) whether it is serving.
//
// Debian's grpc++ ships the server side of the health service but neither
// health.proto nor a generated client stub, so the call goes through a
// generic stub with the two tiny messages encoded here by hand:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }  // 1 = SERVING
// `deepsweep health` (and so the Docker HEALTHCHECK) uses it.
//
// Errors: the call's status (UNAVAILABLE when nothing answers,
// DEADLINE_EXCEEDED past options.call_timeout, NOT_FOUND for a service the
// server does not know), INTERNAL for a malformed response, and
// ConnectCoordinator's option errors.
// Thread-safety: a pure function of its arguments (and the network).
#ifndef DEEPSWEEP_RPC_HEALTH_CHECK_H_
#define DEEPSWEEP_RPC_HEALTH_CHECK_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rpc/grpc_coordinator_client.h"

namespace deepsweep::rpc {

enum class ServingStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

// "UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" as the proto names them.
std::string_view ServingStatusName(ServingStatus status);

// `service` empty = the server as a whole. Uses options.target, the TLS
// fields, token and call_timeout.
absl::StatusOr<ServingStatus> CheckHealth(const ClientOptions& options,
                                          const std::string& service = "");

// The wire format, exposed for tests.
std::string EncodeHealthCheckRequest(const std::string& service);
absl::StatusOr<ServingStatus> DecodeHealthCheckResponse(std::string_view bytes);

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_HEALTH_CHECK_H_
