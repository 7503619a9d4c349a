#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace deepsweep::server {
namespace {

// The host part of "host:port" or "[v6]:port", without brackets.
absl::string_view HostOf(absl::string_view address) {
  for (absl::string_view scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (absl::ConsumePrefix(&address, scheme)) break;
  }
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    return close == absl::string_view::npos ? address : address.substr(1, close - 1);
  }
  const size_t colon = address.rfind(':');
  return colon == absl::string_view::npos ? address : address.substr(0, colon);
}

bool IsIpv4Loopback(absl::string_view host) {
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4) return false;
  for (absl::string_view octet : octets) {
    int value = 0;
    if (!absl::SimpleAtoi(octet, &value) || value < 0 || value > 255) return false;
  }
  return octets[0] == "127";
}

}  // namespace

absl::Status CheckTokenStrength(absl::string_view token) {
  if (token.size() >= kMinTokenLength) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "the bearer token is ", token.size(), " characters long; at least ", kMinTokenLength,
      " are required (128 bits of base64), e.g. from: openssl rand -hex 32"));
}

bool IsLoopbackAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  const std::string host = absl::AsciiStrToLower(HostOf(address));
  return host == "localhost" || host == "::1" || IsIpv4Loopback(host);
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kWorker:
      return "worker";
    case Role::kReader:
      return "reader";
    case Role::kSubmitter:
      return "submitter";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

bool RoleAllows(Role role, Access access) {
  switch (role) {
    case Role::kWorker:
      return access == Access::kWork;
    case Role::kReader:
      return access == Access::kRead;
    case Role::kSubmitter:
      return access == Access::kRead || access == Access::kSubmit;
    case Role::kAdmin:
      return true;
  }
  return false;
}

TokenDigest Sha256(absl::string_view token) {
  TokenDigest digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  return digest;
}

namespace {

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role role : {Role::kWorker, Role::kReader, Role::kSubmitter, Role::kAdmin}) {
    if (name == RoleName(role)) return role;
  }
  return std::nullopt;
}

std::optional<TokenDigest> ParseHexDigest(absl::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  TokenDigest digest;
  for (size_t i = 0; i < digest.size(); ++i) {
    int value = 0;
    for (char c : hex.substr(2 * i, 2)) {
      const char lower = absl::ascii_tolower(c);
      int nibble;
      if (lower >= '0' && lower <= '9') {
        nibble = lower - '0';
      } else if (lower >= 'a' && lower <= 'f') {
        nibble = lower - 'a' + 10;
      } else {
        return std::nullopt;
      }
      value = value * 16 + nibble;
    }
    digest[i] = static_cast<uint8_t>(value);
  }
  return digest;
}

constexpr absl::string_view kDigestPrefix = "sha256:";

absl::string_view RolesAllowing(Access access) {
  switch (access) {
    case Access::kWork:
      return "worker, admin";
    case Access::kRead:
      return "reader, submitter, admin";
    case Access::kSubmit:
      return "submitter, admin";
    case Access::kAdmin:
      return "admin";
  }
  return "admin";
}

absl::Status UnknownTokenError() {
  return absl::UnauthenticatedError(
      "unknown bearer token: set --token (or DEEPSWEEP_TOKEN; --token-file for the worker) "
      "to a credential the server's --credentials file or --token lists");
}

absl::StatusOr<Caller> CheckAccess(const Caller& caller, Access access, absl::string_view method) {
  if (RoleAllows(caller.role, access)) return caller;
  return absl::PermissionDeniedError(absl::StrCat(
      "role '", RoleName(caller.role), "' (credential '", absl::CHexEscape(caller.name),
      "') may not call ", method, "; roles allowed: ", RolesAllowing(access)));
}

}  // namespace

absl::StatusOr<std::vector<Credential>> ParseCredentials(absl::string_view text,
                                                         absl::string_view source) {
  std::vector<Credential> credentials;
  std::set<std::string> names;
  std::set<TokenDigest> digests;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const auto where = [&] { return absl::StrCat(source, " line ", line_number, ": "); };
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "expected 'ROLE NAME SECRET' (3 fields), found ", fields.size()));
    }
    Credential credential;
    const std::optional<Role> role = ParseRole(fields[0]);
    if (!role.has_value()) {
      // The role field is the first word: safe to echo, unlike the secret.
      return absl::InvalidArgumentError(absl::StrCat(where(), "unknown role '",
                                                     absl::CHexEscape(fields[0]),
                                                     "' (worker, reader, submitter or admin)"));
    }
    credential.role = *role;
    credential.name = std::string(fields[1]);
    absl::string_view secret = fields[2];
    if (absl::ConsumePrefix(&secret, kDigestPrefix)) {
      std::optional<TokenDigest> digest = ParseHexDigest(secret);
      if (!digest.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "'sha256:' must be followed by 64 hex digits"));
      }
      credential.digest = *digest;
    } else {
      if (absl::Status weak = CheckTokenStrength(secret); !weak.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where(), weak.message()));
      }
      credential.digest = Sha256(secret);
    }
    if (!names.insert(credential.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "name '", absl::CHexEscape(credential.name), "' appears twice"));
    }
    if (!digests.insert(credential.digest).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "the token of '", absl::CHexEscape(credential.name),
                       "' is also another credential's: each token must be unique"));
    }
    credentials.push_back(std::move(credential));
  }
  return credentials;
}

TokenAuthenticator::TokenAuthenticator(std::vector<Credential> credentials, bool required)
    : required_(required),
      credentials_(std::make_shared<const std::vector<Credential>>(std::move(credentials))) {}

size_t TokenAuthenticator::size() const {
  absl::MutexLock lock(&mu_);
  return credentials_->size();
}

void TokenAuthenticator::Replace(std::vector<Credential> credentials) {
  auto replacement = std::make_shared<const std::vector<Credential>>(std::move(credentials));
  absl::MutexLock lock(&mu_);
  credentials_ = std::move(replacement);
}

absl::StatusOr<Caller> TokenAuthenticator::Authenticate(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  if (!required_) return Caller{.role = Role::kAdmin, .name = "anonymous"};
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing bearer token: this server requires one; set --token (or DEEPSWEEP_TOKEN; "
        "--token-file for the worker)");
  }
  absl::string_view value(it->second.data(), it->second.size());
  const bool bearer = absl::ConsumePrefix(&value, "Bearer ");
  absl::StatusOr<Caller> caller = AuthenticateToken(value);
  if (!bearer) return UnknownTokenError();
  return caller;
}

absl::StatusOr<Caller> TokenAuthenticator::AuthenticateToken(absl::string_view token) const {
  if (!required_) return Caller{.role = Role::kAdmin, .name = "anonymous"};
  std::shared_ptr<const std::vector<Credential>> credentials;
  {
    absl::MutexLock lock(&mu_);
    credentials = credentials_;
  }
  // Compare digests, every one, without stopping at a match: the time taken
  // depends on neither where the token differs nor which credential matched.
  const TokenDigest digest = Sha256(token);
  const Credential* match = nullptr;
  for (const Credential& credential : *credentials) {
    const bool equal = CRYPTO_memcmp(digest.data(), credential.digest.data(), digest.size()) == 0;
    match = equal ? &credential : match;
  }
  if (match == nullptr) return UnknownTokenError();
  return Caller{.role = match->role, .name = match->name};
}

absl::StatusOr<Caller> TokenAuthenticator::Authorize(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, Access access,
    absl::string_view method) const {
  absl::StatusOr<Caller> caller = Authenticate(metadata);
  if (!caller.ok()) return caller.status();
  return CheckAccess(*caller, access, method);
}

absl::StatusOr<Caller> TokenAuthenticator::AuthorizeToken(absl::string_view token, Access access,
                                                          absl::string_view method) const {
  absl::StatusOr<Caller> caller = AuthenticateToken(token);
  if (!caller.ok()) return caller.status();
  return CheckAccess(*caller, access, method);
}

}  // namespace deepsweep::server
