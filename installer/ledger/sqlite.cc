#include "installer/ledger/sqlite.h"

namespace airlock::installer::sqlite {

namespace {

constexpr int k_busy_timeout_ms = 5000;

}  // namespace

// Per-connection settings; journal_mode is also stored in the file.
Status set_pragmas(sqlite3* db) {
  sqlite3_extended_result_codes(db, 1);
  if (const int rc = sqlite3_busy_timeout(db, k_busy_timeout_ms); rc != SQLITE_OK) {
    return std::unexpected(sqlite_error(db, rc, "setting busy_timeout"));
  }
  TRY(exec(db, "PRAGMA foreign_keys = ON", "enabling foreign keys"));
  ASSIGN_OR_RETURN(Stmt check, Stmt::prepare(db, "PRAGMA foreign_keys", "checking foreign keys"));
  ASSIGN_OR_RETURN(bool row, check.step());
  if (!row || check.column_int(0) != 1) {
    return ledger_error(db, ErrorCode::kUnsupported, "this SQLite does not enforce foreign keys");
  }
  return ok_status();
}

Status set_durability(sqlite3* db) {
  ASSIGN_OR_RETURN(Stmt wal, Stmt::prepare(db, "PRAGMA journal_mode = WAL", "switching to WAL"));
  ASSIGN_OR_RETURN(bool row, wal.step());
  const std::string mode = row ? wal.column_text(0) : std::string();
  if (mode != "wal") {
    return ledger_error(db, ErrorCode::kIOError, "could not switch to WAL (journal_mode is '{}')",
                        mode);
  }
  return exec(db, "PRAGMA synchronous = FULL", "setting synchronous = FULL");
}

}  // namespace airlock::installer::sqlite
