// TLS with a throwaway CA and server certificate made by the openssl CLI.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/server/health_probe.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::FreshDirectory;
using testing::LoopbackOptions;

// Makes `name`.key and `name`.pem in `dir`: a CA when `signer` is empty,
// otherwise a certificate for localhost / 127.0.0.1 signed by CA `signer`.
void MakeCertificate(const std::filesystem::path& dir, const std::string& name,
                     const std::string& signer) {
  const std::string d = dir.string();
  const std::string key = absl::StrCat("-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
                                       " -keyout ", d, "/", name, ".key");
  std::string command;
  if (signer.empty()) {
    command = absl::StrCat("openssl req -x509 ", key, " -out ", d, "/", name,
                           ".pem -days 1 -subj '/CN=deepsweep test ", name, "'");
  } else {
    command = absl::StrCat(
        "openssl req ", key, " -out ", d, "/", name, ".csr -subj /CN=localhost && ",
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ", d, "/", name, ".ext && ",
        "openssl x509 -req -in ", d, "/", name, ".csr -CA ", d, "/", signer, ".pem -CAkey ", d, "/",
        signer, ".key -CAcreateserial -days 1 -extfile ", d, "/", name, ".ext -out ", d, "/", name,
        ".pem");
  }
  ASSERT_EQ(std::system(absl::StrCat("(", command, ") >/dev/null 2>&1").c_str()), 0) << command;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDirectory();
    ASSERT_NO_FATAL_FAILURE(MakeCertificate(dir_, "ca", ""));
    ASSERT_NO_FATAL_FAILURE(MakeCertificate(dir_, "server", "ca"));
    ASSERT_NO_FATAL_FAILURE(MakeCertificate(dir_, "other-ca", ""));
    Server::Options options = LoopbackOptions(dir_ / "db.sqlite");
    options.tls_cert_path = (dir_ / "server.pem").string();
    options.tls_key_path = (dir_ / "server.key").string();
    options.token = "s3cret-s3cret-s3cret-s3cret";
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    EXPECT_TRUE(server_->tls());
  }

  absl::Status ListSweepsWith(rpc::ClientOptions options) {
    options.call_timeout = absl::Seconds(20);
    absl::StatusOr<std::unique_ptr<rpc::CoordinatorClient>> client =
        rpc::ConnectCoordinator(options);
    if (!client.ok()) return client.status();
    return (*client)->ListSweeps().status();
  }

  std::string Target(const std::string& host) const {
    return absl::StrCat(host, ":", server_->port());
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsTest, ClientTrustingTheCaConnectsByIpAndByName) {
  for (const char* host : {"127.0.0.1", "localhost"}) {
    rpc::ClientOptions options{.target = Target(host),
                               .ca_cert_path = (dir_ / "ca.pem").string(),
                               .token = "s3cret-s3cret-s3cret-s3cret"};
    EXPECT_TRUE(ListSweepsWith(options).ok()) << host << ": " << ListSweepsWith(options);
  }
}

TEST_F(TlsTest, TokenStillRequiredOverTls) {
  rpc::ClientOptions options{.target = Target("127.0.0.1"),
                             .ca_cert_path = (dir_ / "ca.pem").string()};
  EXPECT_EQ(ListSweepsWith(options).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TlsTest, PlaintextClientIsRefused) {
  rpc::ClientOptions options{.target = Target("127.0.0.1"), .token = "s3cret-s3cret-s3cret-s3cret"};
  EXPECT_EQ(ListSweepsWith(options).code(), absl::StatusCode::kUnavailable);
}

TEST_F(TlsTest, ClientTrustingAnotherCaIsRefused) {
  rpc::ClientOptions options{.target = Target("127.0.0.1"),
                             .ca_cert_path = (dir_ / "other-ca.pem").string(),
                             .token = "s3cret-s3cret-s3cret-s3cret"};
  EXPECT_EQ(ListSweepsWith(options).code(), absl::StatusCode::kUnavailable);
}

TEST_F(TlsTest, MissingCaFileIsNamed) {
  rpc::ClientOptions options{.target = Target("127.0.0.1"),
                             .ca_cert_path = (dir_ / "nope.pem").string()};
  EXPECT_EQ(rpc::ConnectCoordinator(options).status().code(), absl::StatusCode::kNotFound);
}

// Kubernetes' gRPC probes cannot speak TLS: --health-address serves the
// health service alone, in plaintext, beside the TLS port.
TEST_F(TlsTest, PlaintextHealthPortServesHealthAndNothingElse) {
  Server::Options options = LoopbackOptions(dir_ / "health.sqlite");
  options.tls_cert_path = (dir_ / "server.pem").string();
  options.tls_key_path = (dir_ / "server.key").string();
  options.token = "s3cret-s3cret-s3cret-s3cret";
  options.health_address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->health_port(), 0);
  EXPECT_NE((*server)->health_port(), (*server)->port());
  std::shared_ptr<grpc::Channel> health = grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->health_port()), grpc::InsecureChannelCredentials());
  EXPECT_TRUE(testing::IsServing(health));
  // The coordinator's methods are not on it, with or without the token.
  rpc::ClientOptions plain{.target = absl::StrCat("127.0.0.1:", (*server)->health_port()),
                           .token = "s3cret-s3cret-s3cret-s3cret"};
  EXPECT_EQ(ListSweepsWith(plain).code(), absl::StatusCode::kUnimplemented);
  // The TLS port still refuses plaintext.
  rpc::ClientOptions tls_port_plain{.target = absl::StrCat("127.0.0.1:", (*server)->port()),
                                    .token = "s3cret-s3cret-s3cret-s3cret"};
  EXPECT_EQ(ListSweepsWith(tls_port_plain).code(), absl::StatusCode::kUnavailable);
  (*server)->Shutdown();
  EXPECT_FALSE(testing::IsServing(health));
}

TEST(TlsOptionsTest, CertificateWithoutKeyIsRejected) {
  Server::Options options = LoopbackOptions(FreshDirectory() / "db.sqlite");
  options.tls_cert_path = "/nonexistent/server.pem";
  EXPECT_EQ(Server::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.tls_key_path = "/nonexistent/server.key";
  EXPECT_EQ(Server::Start(options).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace deepsweep::server
