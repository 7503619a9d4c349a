// SqliteDb: one SQLite connection with a cache of prepared statements, the
// thin layer SqliteSweepStore is written on. Every SQL text is prepared once
// per connection and reused; statements are reset when their handle goes out
// of scope, so no read snapshot is ever left open.
//
// Errors map to canonical codes: SQLITE_BUSY / SQLITE_LOCKED / I/O errors /
// SQLITE_FULL (disk full) -> UNAVAILABLE (transient: retry once the fault is
// gone), everything else -> INTERNAL; the message holds SQLite's own text.
//
// Thread-safety: none. A connection is used by one thread at a time (its owner
// holds a mutex); the connection is opened with SQLITE_OPEN_NOMUTEX.
#ifndef DEEPSWEEP_STORE_SQLITE_DB_H_
#define DEEPSWEEP_STORE_SQLITE_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

struct sqlite3;
struct sqlite3_stmt;

namespace deepsweep {

// A prepared statement borrowed from the connection's cache. Bind with 1-based
// indexes; read columns with 0-based ones. Reset on destruction.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  SqliteStatement(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // NaN binds as NULL (SQLite's own behaviour, made explicit).
  void Bind(int index, double value);
  void Bind(int index, int64_t value);
  void Bind(int index, int value) { Bind(index, static_cast<int64_t>(value)); }
  // Text and blobs are not copied: they must outlive the statement's use
  // (until it is reset), so temporaries are refused.
  void Bind(int index, std::string_view text);
  void Bind(int index, const std::string& text) { Bind(index, std::string_view(text)); }
  void Bind(int index, std::string&& text) = delete;
  void Bind(int index, const char* text) { Bind(index, std::string_view(text)); }
  void BindNull(int index);
  void BindOptional(int index, std::optional<int64_t> value);
  // Binds `floats` as float32 little-endian bytes.
  void BindFloats(int index, absl::Span<const float> floats);

  // Steps once: true when a row is ready, false when done. Fails with the
  // first Bind error, if any.
  absl::StatusOr<bool> Step();
  // Makes the statement ready to run again; bindings stay until rebound.
  void Reset();
  // Steps to the end (for statements that return no rows).
  absl::Status Run();
  // Steps through every row, calling `row()` on each; stops at the first error.
  absl::Status ForEachRow(const std::function<absl::Status()>& row);
  // Rows changed by the last Run() of this statement.
  int64_t Changes() const;

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  // NULL reads as NaN.
  double Real(int column) const;
  std::optional<double> OptionalReal(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;
  std::string Text(int column) const;
  std::vector<float> Floats(int column) const;

 private:
  void CheckBind(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;  // SQLite result code of the first failed bind
};

class SqliteDb {
 public:
  // Opens (creating when `create`) the database at `path`.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool create);
  // Opens the existing database at `path` with SQLITE_OPEN_READONLY: nothing
  // through this connection can change the file (in WAL mode it still reads
  // while another process writes). `immutable` opens it as SQLite's
  // `immutable=1` URI: no locks, no -shm or -wal, for a file nothing can
  // write (only then: changes by a writer would go unseen). UNAVAILABLE when
  // it cannot be opened.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> OpenReadOnly(const std::string& path,
                                                                bool immutable = false);
  // True when SQLite opened the database read-only (e.g. a read-write open of
  // a file this process may not write falls back to read-only).
  bool read_only() const;
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs SQL without parameters (may hold several statements).
  absl::Status Exec(std::string_view sql);
  // The cached statement for `sql`, prepared on first use.
  absl::StatusOr<SqliteStatement> Prepare(const std::string& sql);
  // BEGIN IMMEDIATE, `body`, COMMIT; ROLLBACK when `body` fails.
  absl::Status WriteTransaction(const std::function<absl::Status()>& body);
  // BEGIN (deferred), `body`, COMMIT: one consistent snapshot for several reads.
  absl::Status ReadTransaction(const std::function<absl::Status()>& body);
  // Reads a single integer, e.g. "PRAGMA user_version".
  absl::StatusOr<int64_t> QueryInt(const std::string& sql);

  sqlite3* raw() const { return db_; }
  // The canonical status for SQLite result code `rc` while doing `what`.
  absl::Status Error(int rc, std::string_view what) const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  static absl::StatusOr<std::unique_ptr<SqliteDb>> OpenWithFlags(const std::string& path,
                                                                 int flags);
  absl::Status Transaction(const std::string& begin, const std::function<absl::Status()>& body);

  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_STORE_SQLITE_DB_H_
