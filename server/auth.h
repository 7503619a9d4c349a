// Who may call the coordinator: credentials with roles, the per-method role
// check, and the rule for when a credential is required.
//
// A credential is a bearer token with a role and a name. The role decides
// which methods the caller may use (RoleAllows); the name only appears in
// logs and error messages, so an operator can tell callers apart. Tokens are
// kept as SHA-256 digests and compared as digests in constant time; no token
// ever appears in a message.
//
// Thread-safety: TokenAuthenticator may be called from any thread while Replace()
// swaps its credentials (a reload on SIGHUP); the free functions are pure.
#ifndef DEEPSWEEP_SERVER_AUTH_H_
#define DEEPSWEEP_SERVER_AUTH_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/string_ref.h"

namespace deepsweep::server {

// True when `address` ("host:port", "[v6]:port" or "unix:path") only accepts
// connections from this machine: localhost, 127.0.0.0/8, ::1, or a Unix
// socket. Wildcards (0.0.0.0, [::]) and every other host are not loopback.
bool IsLoopbackAddress(absl::string_view address);

// What a credential may do, narrowest first.
//   worker:    acquire, renew, report, complete, fail, release (kWork)
//   reader:    every read: sweeps, trials, checkpoints, workers, watch (kRead)
//   submitter: what a reader may, plus create, cancel, retry (kSubmit)
//   admin:     everything, including backups (kAdmin)
// Health checks need no credential at all (probes carry none).
enum class Role { kWorker, kReader, kSubmitter, kAdmin };
// What a method needs; each RPC names one.
enum class Access { kWork, kRead, kSubmit, kAdmin };

// "worker", "reader", "submitter", "admin".
absl::string_view RoleName(Role role);
bool RoleAllows(Role role, Access access);

using TokenDigest = std::array<uint8_t, 32>;
TokenDigest Sha256(absl::string_view token);

struct Credential {
  Role role = Role::kWorker;
  // Who holds it, for logs ("pool-a", "alice"); never the token.
  std::string name;
  TokenDigest digest{};
};

// Parses a credentials file: one credential a line, `ROLE NAME SECRET`,
// separated by spaces or tabs; SECRET is `sha256:` and the 64 hex digits of
// the token's SHA-256 (recommended: the file then holds no token), or the
// token itself (at least kMinTokenLength characters). Blank lines and lines
// starting with '#' are ignored.
// Errors: INVALID_ARGUMENT naming `source` and the line number for an unknown
// role, a missing field, a malformed digest, or a name or token that appears
// twice (a token with two roles would be ambiguous).
absl::StatusOr<std::vector<Credential>> ParseCredentials(absl::string_view text,
                                                         absl::string_view source);

// The caller a credential identified.
struct Caller {
  Role role = Role::kAdmin;
  std::string name;
};

// Tokens shorter than this are refused: 22 characters of base64 carry 128
// bits (16 random bytes); `openssl rand -hex 32` gives 64 characters.
inline constexpr size_t kMinTokenLength = 22;

// OK for a token of at least kMinTokenLength characters; INVALID_ARGUMENT
// (saying how long it is and how to make a good one) otherwise.
absl::Status CheckTokenStrength(absl::string_view token);

// Checks the "authorization: Bearer <token>" metadata of a call.
class TokenAuthenticator {
 public:
  // `required` false lets every call through as an anonymous admin (no
  // credential configured: loopback development). With `required`, only the
  // given credentials are accepted (possibly none, after revoking all).
  TokenAuthenticator(std::vector<Credential> credentials, bool required);

  bool required() const { return required_; }
  // How many credentials are accepted now.
  size_t size() const;

  // Swaps in a new set of credentials; calls in flight finish with the old.
  void Replace(std::vector<Credential> credentials);

  // The caller whose token the call carries. UNAUTHENTICATED when the token is
  // missing or unknown (the message says which, and what to set, never the
  // token). Compares the token's digest with every credential's in constant
  // time.
  absl::StatusOr<Caller> Authenticate(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;

  // Authenticate, then PERMISSION_DENIED naming the role, the credential and
  // `method` when the caller's role does not allow `access`.
  absl::StatusOr<Caller> Authorize(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, Access access,
      absl::string_view method) const;

  // The same checks for a token presented some other way (the HTTP
  // dashboard's bearer header or login cookie).
  absl::StatusOr<Caller> AuthenticateToken(absl::string_view token) const;
  absl::StatusOr<Caller> AuthorizeToken(absl::string_view token, Access access,
                                        absl::string_view method) const;

 private:
  const bool required_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<Credential>> credentials_ ABSL_GUARDED_BY(mu_);
};

}  // namespace deepsweep::server

#endif  // DEEPSWEEP_SERVER_AUTH_H_
