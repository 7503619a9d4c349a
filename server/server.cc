#include "server/server.h"

#include <malloc.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/signals.h"
#include "common/status_macros.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "rpc/read_file.h"
#include "server/malformed_request_interceptor.h"
#include "spdlog/spdlog.h"
#include "store/file_snapshot_store.h"
#include "store/memory_sweep_store.h"
#include "store/sqlite_sweep_store.h"
#include "web/metrics.h"

namespace deepsweep::server {
namespace {

// The credentials from `token` / `token_file` (one admin credential) and
// `credentials_file`.
absl::StatusOr<std::vector<Credential>> ReadCredentials(const Server::Options& options) {
  if (!options.token.empty() && !options.token_file.empty()) {
    return absl::InvalidArgumentError("set either token or token_file, not both");
  }
  std::string token = options.token;
  if (!options.token_file.empty()) {
    ASSIGN_OR_RETURN(std::string contents, rpc::ReadFileContents(options.token_file, "token file"));
    token = std::string(absl::StripAsciiWhitespace(contents));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token file '", options.token_file, "' holds only whitespace"));
    }
  }
  std::vector<Credential> credentials;
  if (!options.credentials_file.empty()) {
    ASSIGN_OR_RETURN(std::string contents,
                     rpc::ReadFileContents(options.credentials_file, "credentials file"));
    ASSIGN_OR_RETURN(credentials, ParseCredentials(contents, options.credentials_file));
  }
  if (!token.empty()) {
    RETURN_IF_ERROR(CheckTokenStrength(token));
    Credential admin{.role = Role::kAdmin, .name = "--token", .digest = Sha256(token)};
    for (const Credential& credential : credentials) {
      if (credential.digest == admin.digest) {
        return absl::InvalidArgumentError(
            absl::StrCat("the --token is also credential '", credential.name, "' of ",
                         options.credentials_file, ": each token must be unique"));
      }
    }
    credentials.push_back(std::move(admin));
  }
  return credentials;
}

// Whether calls need a credential: yes as soon as any source is configured.
bool CredentialsRequired(const Server::Options& options) {
  return !options.token.empty() || !options.token_file.empty() || !options.credentials_file.empty();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const Server::Options& options) {
  if (options.tls_cert_path.empty() != options.tls_key_path.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate and a private key (tls_cert_path and tls_key_path)");
  }
  if (options.tls_cert_path.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain,
                   rpc::ReadFileContents(options.tls_cert_path, "TLS certificate"));
  ASSIGN_OR_RETURN(pair.private_key, rpc::ReadFileContents(options.tls_key_path, "TLS key"));
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(ssl);
}

// Every method but grpc.health.v1's on the health port: UNIMPLEMENTED, saying where
// the coordinator is.
class HealthOnlyService final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            "this port (--health-address) serves only grpc.health.v1; the "
                            "coordinator answers on its --address"));
      }
      void OnDone() override { delete this; }
    };
    return new Reactor;
  }
};

// A duration as a gRPC integer channel argument, clamped to int's range.
int MillisecondsArg(absl::Duration d) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
}

// The store, and how to back it up (nothing for the memory store).
absl::StatusOr<std::unique_ptr<SweepStore>> OpenStore(const std::string& path,
                                                      DatabaseBackup* backup) {
  if (path == ":memory:") return std::unique_ptr<SweepStore>(new MemorySweepStore());
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteSweepStore> store, SqliteSweepStore::Open(path));
  *backup = [sqlite = store.get()](const std::string& destination) {
    return sqlite->Backup(destination);
  };
  return std::unique_ptr<SweepStore>(std::move(store));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Options options) {
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max_message_bytes: must be positive");
  }
  if (options.max_idle_threads <= 0) {
    return absl::InvalidArgumentError("max_idle_threads: must be positive");
  }
  if (options.max_threads <= options.max_idle_threads) {
    return absl::InvalidArgumentError("max_threads: must exceed max_idle_threads");
  }
  if (options.max_concurrent_streams <= 0) {
    return absl::InvalidArgumentError("max_concurrent_streams: must be positive");
  }
  if (options.handshake_timeout <= absl::ZeroDuration() ||
      options.connection_idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "handshake_timeout and connection_idle_timeout: must be positive");
  }
  if (options.expiry_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("expiry_interval: must be positive");
  }
  ASSIGN_OR_RETURN(std::vector<Credential> credentials, ReadCredentials(options));
  const bool required = CredentialsRequired(options);
  if (!required && !options.insecure && !IsLoopbackAddress(options.address)) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to listen on non-loopback address ", options.address,
                     " without credentials: give --credentials, --token or --token-file, or allow "
                     "unauthenticated calls explicitly with --insecure"));
  }
  if (!required && !options.insecure && !options.http_address.empty() &&
      !IsLoopbackAddress(options.http_address)) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to serve HTTP on non-loopback address ", options.http_address,
                     " without credentials: give --credentials, --token or --token-file, or allow "
                     "unauthenticated access explicitly with --insecure"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> transport, Credentials(options));

  std::unique_ptr<Server> server(new Server());
  server->options_ = std::move(options);
  const Options& opts = server->options_;
  server->tls_ = !opts.tls_cert_path.empty();
  DatabaseBackup backup;
  if (opts.store != nullptr) {
    server->store_ = opts.store;
  } else {
    ASSIGN_OR_RETURN(server->owned_store_, OpenStore(opts.database_path, &backup));
    server->store_ = server->owned_store_.get();
  }
  server->sqlite_ = dynamic_cast<SqliteSweepStore*>(server->store_);
  const Clock* clock = opts.clock != nullptr ? opts.clock : SystemClock::Default();
  CoordinatorOptions coordinator_options = opts.coordinator;
  coordinator_options.on_store_health_change = [s = server.get()](const StoreHealth& health) {
    s->OnStoreHealthChange(health);
  };
  server->coordinator_ =
      std::make_unique<Coordinator>(server->store_, clock, std::move(coordinator_options));
  if (opts.database_path != ":memory:") {
    ASSIGN_OR_RETURN(server->snapshot_store_,
                     FileSnapshotStore::Open(SnapshotDirFor(opts.database_path)));
    server->snapshots_ =
        std::make_unique<Snapshots>(server->coordinator_.get(), server->snapshot_store_.get());
    // Trials that ended while no call pruned them (e.g. the server was killed in between).
    if (absl::StatusOr<int> pruned = server->snapshots_->PruneEndedTrials(); !pruned.ok()) {
      spdlog::error("snapshot retention at start: {}", pruned.status().ToString());
    } else if (*pruned > 0) {
      spdlog::info("snapshot retention applied to {} ended trials", *pruned);
    }
  }
  const size_t credential_count = credentials.size();
  server->authenticator_ = std::make_unique<TokenAuthenticator>(std::move(credentials), required);
  CoordinatorServiceOptions service_options = opts.service;
  service_options.backup_directory =
      std::filesystem::absolute(opts.database_path).parent_path().string();
  server->service_ = std::make_unique<CoordinatorServiceImpl>(
      server->coordinator_.get(), server->authenticator_.get(), clock, service_options,
      std::move(backup), &server->rpc_metrics_, server->snapshots_.get());

  ASSIGN_OR_RETURN(
      server->listener_,
      ConnectionListener::Bind(opts.address, {.max_connections = opts.max_connections,
                                              .descriptor_reserve = opts.descriptor_reserve}));
  server->port_ = server->listener_->port();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  server->acceptor_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD, transport);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(opts.max_message_bytes);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              opts.max_idle_threads);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             MillisecondsArg(opts.handshake_timeout));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             MillisecondsArg(opts.connection_idle_timeout));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, opts.max_concurrent_streams);
  grpc::ResourceQuota quota("deepsweep-server");
  quota.SetMaxThreads(opts.max_threads);
  builder.SetResourceQuota(quota);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<MalformedRequestInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  {
    absl::MutexLock lock(&server->shutdown_mu_);
    server->grpc_server_ = builder.BuildAndStart();
    if (server->grpc_server_ == nullptr) {
      return absl::UnavailableError(absl::StrCat("cannot start the gRPC server on ", opts.address));
    }
    if (!opts.health_address.empty()) {
      // Only the default health service: no CoordinatorService on this port.
      // gRPC refuses a server without a method of its own before it adds the
      // health service, so every other method is one that says UNIMPLEMENTED.
      grpc::ServerBuilder health_builder;
      health_builder.AddListeningPort(opts.health_address, grpc::InsecureServerCredentials(),
                                      &server->health_port_);
      server->unimplemented_ = std::make_unique<HealthOnlyService>();
      health_builder.RegisterCallbackGenericService(server->unimplemented_.get());
      server->health_server_ = health_builder.BuildAndStart();
      if (server->health_server_ == nullptr || server->health_port_ == 0) {
        return absl::UnavailableError(absl::StrCat("cannot listen on the health address ",
                                                   opts.health_address,
                                                   " (address in use or invalid?)"));
      }
    }
    server->SetServing(server->store_writable_);
  }
  if (!opts.http_address.empty()) {
    web::HttpDashboardOptions http{.address = opts.http_address,
                                   .tls_cert_path = opts.tls_cert_path,
                                   .tls_key_path = opts.tls_key_path,
                                   .chartjs_dir = opts.chartjs_dir,
                                   .metrics = [s = server.get()] { return s->MetricsText(); }};
    http.api.worker_timeout = opts.coordinator.lease_ttl;
    if (server->authenticator_->required()) {
      // A reader credential suffices: the dashboard only reads.
      http.authenticate = [auth = server->authenticator_.get()](const std::string& token) {
        return auth->AuthorizeToken(token, Access::kRead, "the web dashboard").status();
      };
    }
    absl::StatusOr<std::unique_ptr<web::HttpDashboard>> dashboard = web::HttpDashboard::Start(
        server->coordinator_.get(), server->store_, clock, std::move(http));
    // On error the server's destructor stops what was started.
    if (!dashboard.ok()) return dashboard.status();
    server->http_ = std::move(*dashboard);
    const std::string host = opts.http_address.substr(0, opts.http_address.rfind(':'));
    spdlog::info("dashboard on {}://{}:{}/ (also /api/ and /metrics)",
                 server->http_->tls() ? "https" : "http", host, server->http_->port());
  }
  server->listener_->Start(server->acceptor_.get());
  server->expiry_thread_ = std::thread([s = server.get()] { s->ExpireLeasesPeriodically(); });
  spdlog::info("deepsweep-server listening on {} (port {}, {}, {}, database {})", opts.address,
               server->port_, server->tls_ ? "TLS" : "plaintext",
               required ? absl::StrCat(credential_count, " credential(s)") : "no token",
               opts.database_path);
  return server;
}

std::string Server::MetricsText() {
  web::MetricsSnapshot m;
  m.coordinator = coordinator_->counters();
  m.store_health = coordinator_->store_health();
  m.unfinished_trials = coordinator_->unfinished_trials();
  for (const RpcMetrics::MethodStats& r : rpc_metrics_.Read()) {
    m.rpc.push_back({.method = r.method, .ok = r.ok, .errors = r.errors, .latency = r.latency});
  }
  if (sqlite_ != nullptr) {
    const SqliteSweepStore::WriteStats w = sqlite_->write_stats();
    m.store = web::StoreMetrics{.commits = w.commits,
                                .mutations = w.mutations,
                                .queue_depth = w.queue_depth,
                                .commit_latency = sqlite_->commit_latency()};
  }
  // Store reads: a failure leaves the gauges at 0 (and is logged), the
  // counters above stay right.
  if (absl::StatusOr<std::vector<SweepRecord>> sweeps = coordinator_->ListSweeps(); sweeps.ok()) {
    for (const SweepRecord& sweep : *sweeps) {
      const TrialCounts& c = sweep.counts;
      m.trials.pending += c.pending;
      m.trials.leased += c.leased;
      m.trials.succeeded += c.succeeded;
      m.trials.diverged += c.diverged;
      m.trials.failed += c.failed;
      m.trials.cancelled += c.cancelled;
      m.trials.pruned += c.pruned;
      (sweep.state == SweepState::kActive      ? m.sweeps_active
       : sweep.state == SweepState::kCancelled ? m.sweeps_cancelled
                                               : m.sweeps_finished) += 1;
    }
  } else {
    spdlog::error("metrics: listing sweeps failed: {}", sweeps.status().ToString());
  }
  if (absl::StatusOr<std::vector<WorkerRecord>> workers = coordinator_->ListWorkers();
      workers.ok()) {
    const absl::Time now =
        (options_.clock != nullptr ? options_.clock : SystemClock::Default())->Now();
    m.workers_known = static_cast<int64_t>(workers->size());
    for (const WorkerRecord& w : *workers) {
      if (now - w.last_seen <= options_.coordinator.lease_ttl) ++m.workers_alive;
    }
  } else {
    spdlog::error("metrics: listing workers failed: {}", workers.status().ToString());
  }
  return web::PrometheusText(m);
}

int Server::http_port() const { return http_ != nullptr ? http_->port() : 0; }

Server::~Server() {
  Shutdown();
  Wait();
}

void Server::ExpireLeasesPeriodically() {
  // Memory freed when a big sweep is cancelled or done stays with malloc
  // (434 MB of 555 MB after cancelling 300,000 trials) unless trimmed: trim
  // once the index has shrunk by this many trials since its peak.
  constexpr int64_t kTrimAfterFreedTrials = 10'000;
  int64_t peak = 0;
  while (!stopping_.WaitForNotificationWithTimeout(options_.expiry_interval)) {
    const int64_t unfinished = coordinator_->unfinished_trials();
    peak = std::max(peak, unfinished);
    if (peak - unfinished >= kTrimAfterFreedTrials) {
      malloc_trim(0);
      peak = unfinished;
    }
    absl::StatusOr<int64_t> expired = coordinator_->ExpireLeases();
    if (!expired.ok()) {
      spdlog::error("expiring leases failed: {}", expired.status().ToString());
    } else if (*expired > 0) {
      spdlog::info("expired {} lease(s); their trials are pending again or failed", *expired);
    }
  }
}

void Server::SetServing(bool serving) {
  for (grpc::Server* grpc_server : {grpc_server_.get(), health_server_.get()}) {
    if (grpc_server != nullptr && grpc_server->GetHealthCheckService() != nullptr) {
      grpc_server->GetHealthCheckService()->SetServingStatus(serving);
    }
  }
}

void Server::OnStoreHealthChange(const StoreHealth& health) {
  if (health.writable) {
    spdlog::info("the database is writable again (after {} failed writes); serving",
                 health.failed_writes);
  } else {
    spdlog::error(
        "cannot write the database: {}. Health is NOT_SERVING until a write succeeds; workers "
        "keep their results and retry. Free space on (or repair) the volume holding {}",
        health.last_error.ToString(), options_.database_path);
  }
  absl::MutexLock lock(&shutdown_mu_);
  store_writable_ = health.writable;
  if (!shut_down_) SetServing(health.writable);
}

void Server::Shutdown() {
  {
    absl::MutexLock lock(&shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    SetServing(false);
  }
  spdlog::info("deepsweep-server shutting down");
  stopping_.Notify();
  if (http_ != nullptr) http_->Shutdown();
  if (listener_ != nullptr) listener_->Stop();
  if (grpc_server_ != nullptr) {
    service_->StopStreams();
    grpc_server_->Shutdown(std::chrono::system_clock::now() +
                           absl::ToChronoNanoseconds(options_.shutdown_grace));
  }
  if (health_server_ != nullptr) {
    health_server_->Shutdown(std::chrono::system_clock::now() +
                             absl::ToChronoNanoseconds(options_.shutdown_grace));
  }
  if (expiry_thread_.joinable()) expiry_thread_.join();
}

void Server::Wait() {
  if (grpc_server_ != nullptr) grpc_server_->Wait();
  if (health_server_ != nullptr) health_server_->Wait();
  stopping_.WaitForNotification();
}

absl::Status Server::ReloadCredentials() {
  if (!authenticator_->required()) {
    return absl::FailedPreconditionError(
        "the server was started without credentials; restart it with --credentials to use "
        "them");
  }
  absl::StatusOr<std::vector<Credential>> credentials = ReadCredentials(options_);
  if (!credentials.ok()) {
    spdlog::error("credentials not reloaded, keeping the {} in use: {}", authenticator_->size(),
                  credentials.status().ToString());
    return credentials.status();
  }
  spdlog::info("credentials reloaded: {} accepted (were {})", credentials->size(),
               authenticator_->size());
  authenticator_->Replace(*std::move(credentials));
  return absl::OkStatus();
}

void Server::ServeUntilSignal() {
  absl::Status installed = InstallTerminationHandlers();
  if (installed.ok()) installed = InstallReloadHandler();
  if (!installed.ok()) {
    spdlog::error("cannot handle SIGTERM/SIGINT ({}); serving until killed", installed.ToString());
    Wait();
    return;
  }
  while (!stopping_.HasBeenNotified()) {
    if (std::optional<int> signal_number = WaitForTerminationSignal(absl::Milliseconds(200))) {
      spdlog::info("received signal {}", *signal_number);
      if (*signal_number == SIGHUP) {
        ReloadCredentials().IgnoreError();  // logged; the old set stays
        continue;
      }
      break;
    }
  }
  Shutdown();
  Wait();
}

}  // namespace deepsweep::server
