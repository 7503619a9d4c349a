// The SQLite schema of a deepsweep database and its migrations.
//
// The schema version lives in PRAGMA user_version. Migrate() applies, each in
// its own transaction, every migration above the file's version; a file newer
// than this binary is refused. docs/SCHEMA.md documents the result.
//
// Thread-safety: call with exclusive use of the connection.
#ifndef DEEPSWEEP_STORE_SQLITE_SCHEMA_H_
#define DEEPSWEEP_STORE_SQLITE_SCHEMA_H_

#include "absl/status/status.h"
#include "store/sqlite_db.h"

namespace deepsweep {

// The version Migrate() brings a database to.
int LatestSchemaVersion();

// FAILED_PRECONDITION when the file's schema is newer than LatestSchemaVersion().
absl::Status Migrate(SqliteDb& db);
// For readers that must not change the file: OK when its schema is exactly
// LatestSchemaVersion(). FAILED_PRECONDITION otherwise, saying whether the
// file is not a deepsweep database (version 0), older (it needs a migration,
// which only a writer such as deepsweep-server does) or newer than this binary.
absl::Status CheckSchemaVersion(SqliteDb& db);

// Migrate() up to `version` only, for tests that build a file of an older
// schema. INVALID_ARGUMENT for a version that does not exist.
absl::Status MigrateTo(SqliteDb& db, int version);

}  // namespace deepsweep

#endif  // DEEPSWEEP_STORE_SQLITE_SCHEMA_H_
