// Who may call the coordinator: the bearer-token check and the rule for when
// a token is required.
//
// Thread-safety: TokenAuthenticator is immutable after construction and safe
// to share; IsLoopbackAddress is a pure function.
#ifndef DEEPSWEEP_SERVER_AUTH_H_
#define DEEPSWEEP_SERVER_AUTH_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/string_ref.h"

namespace deepsweep::server {

// True when `address` ("host:port", "[v6]:port" or "unix:path") only accepts
// connections from this machine: localhost, 127.0.0.0/8, ::1, or a Unix
// socket. Wildcards (0.0.0.0, [::]) and every other host are not loopback.
bool IsLoopbackAddress(absl::string_view address);

// Checks the "authorization: Bearer <token>" metadata of a call.
class TokenAuthenticator {
 public:
  // An empty `token` lets every call through.
  explicit TokenAuthenticator(std::string token) : token_(std::move(token)) {}

  bool enabled() const { return !token_.empty(); }

  // OK when no token is configured or the call carries exactly the token;
  // UNAUTHENTICATED otherwise (the message says whether it was missing or
  // wrong, never what it should be). Compares in constant time.
  absl::Status Authenticate(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;

 private:
  const std::string token_;
};

}  // namespace deepsweep::server

#endif  // DEEPSWEEP_SERVER_AUTH_H_
