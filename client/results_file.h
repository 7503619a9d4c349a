// Results files: a coordinator's SQLite database read directly, with no
// server (`deepsweep --db FILE ...`).
//
// The file is served by a LocalCoordinatorClient over the SQLite store. Read
// commands only read it (the store itself opens read-write and brings an
// older schema up to date, as the server would); commands that change sweeps
// are refused before they reach it (CommandContext::Writer).
//
// Errors: NOT_FOUND when the file does not exist (rather than creating an
// empty one), the store's errors otherwise.
// Thread-safety: the returned client is safe to call from several threads.
#ifndef DEEPSWEEP_CLIENT_RESULTS_FILE_H_
#define DEEPSWEEP_CLIENT_RESULTS_FILE_H_

#include "client/command_context.h"
#include "common/clock.h"

namespace deepsweep::client {

// An opener for CommandContext; `clock` must outlive the clients it opens.
ResultsFileOpener ResultsFileReader(const Clock* clock);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_RESULTS_FILE_H_
