// Results files: a coordinator's SQLite database read directly, with no
// server (`deepsweep --db FILE ...`).
//
// The file is served by a LocalCoordinatorClient over the SQLite store opened
// read-only (SQLITE_OPEN_READONLY, SqliteSweepStore::OpenReadOnly): it is
// never created, migrated or written, a file without write permission reads
// fine, and in WAL mode it can be read while a server writes it. Commands that
// change sweeps are refused before they reach it (CommandContext::Writer).
//
// Errors, each naming the file: NOT_FOUND when it does not exist,
// FAILED_PRECONDITION when its schema is older or newer than this binary's
// (reading never migrates), UNAVAILABLE when SQLite cannot open it.
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
