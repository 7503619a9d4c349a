#include "rpc/channel.h"

#include <algorithm>
#include <cstdint>

#include "common/status_macros.h"
#include "grpcpp/grpcpp.h"
#include "rpc/read_file.h"

namespace deepsweep::rpc {

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(const ClientOptions& options) {
  if (options.target.empty()) return absl::InvalidArgumentError("target: must not be empty");
  if (options.call_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("call_timeout: must be positive");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (options.tls || !options.ca_cert_path.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_cert_path.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_root_certs,
                       ReadFileContents(options.ca_cert_path, "TLS CA certificate"));
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (!options.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.tls_server_name);
  }
  if (options.own_connection) arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  const int reconnect_ms = static_cast<int>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(options.max_reconnect_backoff)));
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, reconnect_ms);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(reconnect_ms, 1000));
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(reconnect_ms, 1000));
  return grpc::CreateCustomChannel(options.target, credentials, arguments);
}

}  // namespace deepsweep::rpc
