// deepsweep-worker: flags -> WorkerProcessOptions -> run until SIGTERM/SIGINT.
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "common/logging.h"
#include "spdlog/spdlog.h"
#include "worker/auto_plan.h"
#include "worker/worker_process.h"

int main(int argc, char** argv) {
  deepsweep::worker::WorkerProcessOptions options;
  deepsweep::LoggingOptions logging{.program = "worker"};
  double timeout_s = absl::ToDoubleSeconds(options.coordinator.call_timeout);
  CLI::App app{"deepsweep worker: leases trials from the coordinator and trains them"};
  app.add_option("--server", options.coordinator.target, "coordinator host:port")
      ->capture_default_str();
  app.add_option("--token", options.coordinator.token, "bearer token");
  app.add_option("--token-file", options.token_file, "file holding the bearer token");
  app.add_option("--tls-ca", options.coordinator.ca_cert_path, "PEM CA of the server (TLS)");
  app.add_option("--tls-server-name", options.coordinator.tls_server_name,
                 "name on the server's certificate");
  app.add_option("--threads", options.runner.threads,
                 "threads per trial (the results are the same for every count)")
      ->capture_default_str();
  std::string kernels;
  app.add_option("--kernels", kernels,
                 "small-batch kernels: avx512, avx2 or generic (default: the best this CPU has)");
  std::string auto_plan = "measure";
  app.add_option("--auto-plan", auto_plan,
                 "which backend serves which minibatch width: measure (time them at start, or "
                 "read the cache), default (1:small_batch,33:blas, no timing), or a plan such as "
                 "1:small_batch,45:blas")
      ->capture_default_str();
  options.cache_dir = deepsweep::worker::DefaultCacheDir();
  app.add_option("--cache-dir", options.cache_dir,
                 "where measured auto plans are kept (\"\" = measure at every start)")
      ->capture_default_str();
  app.add_option("--max-trials", options.loop.max_trials, "stop after N trials (0 = never)")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "per-call deadline, seconds")->capture_default_str();
  double grace_s = absl::ToDoubleSeconds(options.grace);
  app.add_option("--grace", grace_s,
                 "seconds after SIGTERM to snapshot and release the trial before exiting anyway")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--log-level", logging.level, "trace|debug|info|warn|error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (absl::Status status = deepsweep::InitLogging(logging); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 2;
  }
  options.coordinator.call_timeout = absl::Seconds(timeout_s);
  if (!kernels.empty()) {
    absl::StatusOr<deepsweep::ml::KernelIsa> isa = deepsweep::ml::ParseKernelIsa(kernels);
    if (!isa.ok()) {
      std::fprintf(stderr, "--kernels: %s\n", std::string(isa.status().message()).c_str());
      return 2;
    }
    options.kernels = *isa;
  }
  if (auto_plan == "default") {
    options.auto_plan = deepsweep::ml::DefaultAutoPlan();
  } else if (auto_plan != "measure") {
    absl::StatusOr<deepsweep::ml::AutoPlan> plan = deepsweep::ml::ParseAutoPlan(auto_plan);
    if (!plan.ok()) {
      std::fprintf(stderr, "--auto-plan: %s\n", std::string(plan.status().message()).c_str());
      return 2;
    }
    options.auto_plan = *plan;
  }
  options.grace = absl::Seconds(grace_s);
  if (absl::Status status = deepsweep::worker::RunWorkerUntilSignal(options); !status.ok()) {
    spdlog::critical("{}", status.ToString());
    return 1;
  }
  return 0;
}
