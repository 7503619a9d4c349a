// `deepsweep run SPEC --db FILE [--workers K] [--threads N] [--lease-ttl S] [--new]`:
// the embedded mode. One command runs a whole sweep on this machine: a
// coordinator in this process on the SQLite file FILE and K worker threads
// (worker/worker_pool.h), with live progress, then the Table-1-style summary.
//
// The trials run the same TrialRunner as deepsweep-worker processes, so the
// file holds the same metrics as a distributed run of the spec, and every
// `deepsweep --db FILE ...` command and plain sqlite3 can read it. Running
// the same spec on the same file again resumes its sweep (or, finished, shows
// its results) instead of starting another one; a changed spec under a used
// name is refused unless --new (Coordinator::SubmitSweep). SIGINT / SIGTERM (Ctrl-C) releases the
// running trials, so nothing is lost but their progress, and exits with status 130.
//
// Thread-safety: registration happens once, from RunCli.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_RUN_H_
#define DEEPSWEEP_CLIENT_COMMANDS_RUN_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/command_context.h"

namespace deepsweep::client {

struct RunOptions {
  std::string spec_path;  // "-" = standard input
  // Worker threads; each trains one trial at a time.
  int workers = 2;
  // Threads per trial (see worker/trial_runner.h: the same bits for every count).
  int threads = 1;
  // Lease time to live of the in-process coordinator, in seconds.
  double lease_ttl_seconds = 30;
  // A new sweep even if the file has one of the spec's name.
  bool new_sweep = false;
};

// The sweep's database is context.flags().db (required).
absl::Status RunEmbedded(CommandContext& context, const RunOptions& options);

void AddRunCommand(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_RUN_H_
