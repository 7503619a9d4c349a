#include "client/cli.h"

#include "CLI/CLI.hpp"
#include "client/commands/backup.h"
#include "client/commands/data.h"
#include "client/commands/health.h"
#include "client/commands/replay.h"
#include "client/commands/results.h"
#include "client/commands/run.h"
#include "client/commands/series.h"
#include "client/commands/sweeps.h"
#include "client/commands/weights.h"
#include "rpc/grpc_coordinator_client.h"

namespace deepsweep::client {

int RunCli(const std::vector<std::string>& args, const CliEnvironment& environment,
           const CommandIo& io, const ResultsFileOpener& open_results_file) {
  CommandContext context(io, open_results_file);
  ConnectionFlags& flags = context.flags();
  flags.server = environment.server.empty() ? rpc::kDefaultCoordinatorAddress : environment.server;
  flags.token = environment.token;

  CLI::App app{"deepsweep: parameter sweeps over deep network training (Glorot & Bengio 2010)",
               "deepsweep"};
  // At most one command; none is reported below, and an unknown word is
  // reported by CLI11 as an unexpected argument rather than a missing command.
  app.require_subcommand(0, 1);
  app.fallthrough();  // global flags after the command work too
  app.add_option("--server", flags.server, "Coordinator address host:port (env DEEPSWEEP_SERVER)")
      ->capture_default_str();
  app.add_option("--token", flags.token, "Bearer token for the coordinator (env DEEPSWEEP_TOKEN)");
  app.add_option("--tls-ca", flags.tls_ca, "PEM CA certificate of the server; turns TLS on");
  app.add_option("--tls-server-name", flags.tls_server_name,
                 "Name to check the server certificate against");
  app.add_option("--db", flags.db, "Read results from this SQLite file instead of the server");
  app.add_option("--timeout", flags.timeout_seconds, "Per-call deadline in seconds")
      ->capture_default_str();

  AddSweepCommands(app, context);
  AddResultCommands(app, context);
  AddSeriesCommands(app, context);
  AddReplayCommand(app, context);
  AddWeightsCommand(app, context);
  AddHealthCommand(app, context);
  AddBackupCommand(app, context);
  AddDataCommands(app, context);
  AddRunCommand(app, context);

  std::vector<const char*> argv = {"deepsweep"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e, *io.out, *io.err);
  }
  if (app.get_subcommands().empty()) {
    *io.err << "deepsweep: name a command (deepsweep --help lists them)\n";
    return static_cast<int>(CLI::ExitCodes::RequiredError);
  }
  return 0;
}

}  // namespace deepsweep::client
