#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace deepsweep {
namespace {

absl::Status StatusFor(int rc, std::string_view what, const char* message) {
  const std::string text =
      absl::StrCat("sqlite: ", std::string(what), ": ", message != nullptr ? message : "", " (",
                   sqlite3_errstr(rc), ")");
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    // A full disk passes once space is freed: callers retry rather than give
    // up (RESOURCE_EXHAUSTED made workers fail trials for good).
    case SQLITE_FULL:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

}  // namespace

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

SqliteStatement::~SqliteStatement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void SqliteStatement::CheckBind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void SqliteStatement::Bind(int index, double value) {
  CheckBind(std::isnan(value) ? sqlite3_bind_null(stmt_, index)
                              : sqlite3_bind_double(stmt_, index, value));
}
void SqliteStatement::Bind(int index, int64_t value) {
  CheckBind(sqlite3_bind_int64(stmt_, index, value));
}
void SqliteStatement::Bind(int index, std::string_view text) {
  CheckBind(
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC));
}
void SqliteStatement::BindNull(int index) { CheckBind(sqlite3_bind_null(stmt_, index)); }
void SqliteStatement::BindOptional(int index, std::optional<int64_t> value) {
  if (value.has_value()) {
    Bind(index, *value);
  } else {
    BindNull(index);
  }
}

void SqliteStatement::BindFloats(int index, absl::Span<const float> floats) {
  static_assert(std::endian::native == std::endian::little,
                "histogram blobs are float32 little-endian; add a byte swap for this platform");
  CheckBind(sqlite3_bind_blob(stmt_, index, floats.data(),
                              static_cast<int>(floats.size() * sizeof(float)), SQLITE_STATIC));
}

absl::StatusOr<bool> SqliteStatement::Step() {
  if (bind_error_ != 0) return StatusFor(bind_error_, sqlite3_sql(stmt_), "bind failed");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return StatusFor(rc, sqlite3_sql(stmt_), sqlite3_errmsg(db_));
}

void SqliteStatement::Reset() { sqlite3_reset(stmt_); }

absl::Status SqliteStatement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return absl::OkStatus();
  }
}

absl::Status SqliteStatement::ForEachRow(const std::function<absl::Status()>& row) {
  while (true) {
    ASSIGN_OR_RETURN(bool more, Step());
    if (!more) return absl::OkStatus();
    RETURN_IF_ERROR(row());
  }
}

int64_t SqliteStatement::Changes() const { return sqlite3_changes64(db_); }

bool SqliteStatement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
int64_t SqliteStatement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double SqliteStatement::Real(int column) const {
  if (IsNull(column)) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, column);
}
std::optional<double> SqliteStatement::OptionalReal(int column) const {
  if (IsNull(column)) return std::nullopt;
  return sqlite3_column_double(stmt_, column);
}
std::optional<int64_t> SqliteStatement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}
std::string SqliteStatement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return "";
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}
std::vector<float> SqliteStatement::Floats(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  const auto bytes = static_cast<size_t>(sqlite3_column_bytes(stmt_, column));
  std::vector<float> floats(bytes / sizeof(float));
  if (blob != nullptr && !floats.empty())
    std::memcpy(floats.data(), blob, floats.size() * sizeof(float));
  return floats;
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool create) {
  return OpenWithFlags(path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0));
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::OpenReadOnly(const std::string& path,
                                                                 bool immutable) {
  if (!immutable) return OpenWithFlags(path, SQLITE_OPEN_READONLY);
  // A URI's path escapes '%', '?' and '#' (https://sqlite.org/uri.html).
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      absl::StrAppend(&uri, absl::StrFormat("%%%02x", static_cast<unsigned char>(c)));
    } else {
      uri.push_back(c);
    }
  }
  uri += "?immutable=1";
  return OpenWithFlags(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
}

bool SqliteDb::read_only() const { return sqlite3_db_readonly(db_, "main") == 1; }

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::OpenWithFlags(const std::string& path,
                                                                  int flags) {
  sqlite3* db = nullptr;
  flags |= SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = StatusFor(rc, absl::StrCat("open ", path), db ? sqlite3_errmsg(db) : "");
    sqlite3_close(db);
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

absl::Status SqliteDb::Error(int rc, std::string_view what) const {
  return StatusFor(rc, what, sqlite3_errmsg(db_));
}

absl::Status SqliteDb::Exec(std::string_view sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return absl::OkStatus();
  absl::Status status = StatusFor(rc, sql.substr(0, 60), message);
  sqlite3_free(message);
  return status;
}

absl::StatusOr<SqliteStatement> SqliteDb::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, absl::StrCat("prepare ", sql));
    it = statements_.emplace(sql, stmt).first;
  }
  return SqliteStatement(db_, it->second);
}

absl::Status SqliteDb::Transaction(const std::string& begin,
                                   const std::function<absl::Status()>& body) {
  {
    ASSIGN_OR_RETURN(SqliteStatement stmt, Prepare(begin));
    RETURN_IF_ERROR(stmt.Run());
  }
  absl::Status status = body();
  if (status.ok()) {
    ASSIGN_OR_RETURN(SqliteStatement commit, Prepare("COMMIT"));
    status = commit.Run();
    if (status.ok()) return status;
  }
  // A failed COMMIT may leave the transaction open; roll it back either way.
  if (!sqlite3_get_autocommit(db_)) {
    auto rollback = Prepare("ROLLBACK");
    if (rollback.ok()) rollback->Run().IgnoreError();
  }
  return status;
}

absl::Status SqliteDb::WriteTransaction(const std::function<absl::Status()>& body) {
  return Transaction("BEGIN IMMEDIATE", body);
}

absl::Status SqliteDb::ReadTransaction(const std::function<absl::Status()>& body) {
  return Transaction("BEGIN", body);
}

absl::StatusOr<int64_t> SqliteDb::QueryInt(const std::string& sql) {
  ASSIGN_OR_RETURN(SqliteStatement stmt, Prepare(sql));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError(absl::StrCat("sqlite: no row from ", sql));
  return stmt.Int(0);
}

}  // namespace deepsweep
