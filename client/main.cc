// deepsweep: the command-line client. Wiring only: each command family
// registers itself from client/commands/.
#include "CLI/CLI.hpp"
#include "client/commands/data.h"

int main(int argc, char** argv) {
  CLI::App app{"deepsweep: parameter sweeps over deep network training (Glorot & Bengio 2010)"};
  app.require_subcommand(1);
  deepsweep::client::AddDataCommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
