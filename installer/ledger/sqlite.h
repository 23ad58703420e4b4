#pragma once
// The ledger's thin layer over SQLite's C API: errors that name the ledger
// file ("ledger PATH: WHAT: sqlite message"), prepared statements, constant
// SQL, transactions (nested ones as savepoints) and the connection settings
// the ledger relies on. Used by ledger/ only.

#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "core/base/bytes.h"
#include "core/base/error.h"

namespace airlock::installer::sqlite {

inline const sqlite3_destructor_type k_transient =
    reinterpret_cast<sqlite3_destructor_type>(static_cast<std::intptr_t>(-1));

inline std::string db_path(sqlite3* db) {
  const char* name = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  return name != nullptr && *name != '\0' ? std::string(name) : std::string(":memory:");
}

inline ErrorCode code_for(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ? ErrorCode::kCorruption
                                                               : ErrorCode::kIOError;
}

// An SQLite failure: "ledger PATH: WHAT: sqlite message".
inline Error sqlite_error(sqlite3* db, int rc, std::string_view what, const char* message = nullptr) {
  if (message == nullptr) message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  // SQLite says "disk I/O error" for a full disk; the OS error says which.
  const int sys_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  if (sys_errno != 0 && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_CANTOPEN)) {
    return Error(code_for(rc), fmt::format("ledger {}: {}: {} ({})", db_path(db), what, message, std::strerror(sys_errno)));
  }
  return Error(code_for(rc), fmt::format("ledger {}: {}: {}", db_path(db), what, message));
}

template <typename... Args>
std::unexpected<Error> ledger_error(sqlite3* db, ErrorCode code, fmt::format_string<Args...> f,
                                    Args&&... args) {
  return std::unexpected(Error(
      code, fmt::format("ledger {}: {}", db_path(db), fmt::format(f, std::forward<Args>(args)...))));
}

// A prepared statement. Bind errors are remembered and reported by step().
class Stmt {
 public:
  static Result<Stmt> prepare(sqlite3* db, const char* sql, std::string_view what) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return std::unexpected(sqlite_error(db, rc, what));
    }
    return Stmt(db, stmt, what);
  }

  Stmt(Stmt&& other) noexcept
      : m_db(other.m_db), m_stmt(std::exchange(other.m_stmt, nullptr)), m_what(std::move(other.m_what)),
        m_bind_rc(other.m_bind_rc) {}
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(m_stmt); }

  Stmt& text(int index, std::string_view value) {
    note(sqlite3_bind_text64(m_stmt, index, value.data() != nullptr ? value.data() : "",
                             value.size(), k_transient, SQLITE_UTF8));
    return *this;
  }
  Stmt& blob(int index, std::string_view value) {
    note(sqlite3_bind_blob64(m_stmt, index, value.data() != nullptr ? value.data() : "",
                             value.size(), k_transient));
    return *this;
  }
  Stmt& integer(int index, std::int64_t value) {
    note(sqlite3_bind_int64(m_stmt, index, value));
    return *this;
  }
  Stmt& null(int index) {
    note(sqlite3_bind_null(m_stmt, index));
    return *this;
  }
  Stmt& optional_text(int index, const std::optional<std::string>& value) {
    return value ? text(index, *value) : null(index);
  }

  // true: a row is ready; false: done.
  Result<bool> step() {
    if (m_bind_rc != SQLITE_OK) {
      return std::unexpected(sqlite_error(m_db, m_bind_rc, m_what, sqlite3_errstr(m_bind_rc)));
    }
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return std::unexpected(sqlite_error(m_db, rc, m_what));
  }
  // Runs a statement that returns no rows.
  Status run() {
    ASSIGN_OR_RETURN(bool row, step());
    if (row) return ledger_error(m_db, ErrorCode::kIOError, "{}: unexpected result row", m_what);
    return ok_status();
  }
  void reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    m_bind_rc = SQLITE_OK;
  }

  std::int64_t column_int(int col) const { return sqlite3_column_int64(m_stmt, col); }
  std::uint64_t column_uint(int col) const {
    return static_cast<std::uint64_t>(sqlite3_column_int64(m_stmt, col));
  }
  std::string column_text(int col) const {
    const unsigned char* p = sqlite3_column_text(m_stmt, col);
    const int n = sqlite3_column_bytes(m_stmt, col);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                        : std::string();
  }
  Bytes column_blob(int col) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(m_stmt, col));
    const int n = sqlite3_column_bytes(m_stmt, col);
    return p != nullptr ? Bytes(p, p + n) : Bytes();
  }
  std::optional<std::string> column_optional_text(int col) const {
    if (sqlite3_column_type(m_stmt, col) == SQLITE_NULL) return std::nullopt;
    return column_text(col);
  }

 private:
  Stmt(sqlite3* db, sqlite3_stmt* stmt, std::string_view what) : m_db(db), m_stmt(stmt), m_what(what) {}
  void note(int rc) {
    if (rc != SQLITE_OK && m_bind_rc == SQLITE_OK) m_bind_rc = rc;
  }

  sqlite3* m_db;
  sqlite3_stmt* m_stmt;
  std::string m_what;
  int m_bind_rc = SQLITE_OK;
};

// Constant SQL without parameters (transaction control, pragmas, DDL).
inline Status exec(sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(sqlite_error(db, rc, what));
  return ok_status();
}

// Runs fn atomically. Outside a transaction: BEGIN IMMEDIATE ... COMMIT (take
// the write lock up front, so no deferred lock upgrade can fail half way).
// Inside one (with_transaction, or a nested call): a savepoint, so an inner
// failure undoes only the inner work and leaves the outer transaction usable.
template <typename Fn>
Status atomically(sqlite3* db, std::string_view what, Fn&& fn) {
  const bool outermost = sqlite3_get_autocommit(db) != 0;
  TRY(exec(db, outermost ? "BEGIN IMMEDIATE" : "SAVEPOINT airlock_sp",
           fmt::format("{}: starting a transaction", what)));

  Status status = fn();
  if (status) {
    if (sqlite3_get_autocommit(db) != 0) {
      // SQLite rolled the whole transaction back on its own (I/O error, ...).
      return ledger_error(db, ErrorCode::kIOError, "{}: the transaction was rolled back by SQLite",
                          what);
    }
    status = exec(db, outermost ? "COMMIT" : "RELEASE airlock_sp",
                  fmt::format("{}: committing", what));
    if (status) return ok_status();
  }

  if (sqlite3_get_autocommit(db) == 0) {
    const int rc = outermost ? sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr)
                             : sqlite3_exec(db, "ROLLBACK TO airlock_sp; RELEASE airlock_sp",
                                            nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      const Error& first = status.error();
      return std::unexpected(Error(first.code(), fmt::format("{} (and rolling back failed: {})",
                                                             first.message(), sqlite3_errmsg(db))));
    }
  }
  return status;
}

// Per-connection settings (busy timeout, extended codes, enforced foreign
// keys); kUnsupported when this SQLite does not enforce foreign keys.
Status set_pragmas(sqlite3* db);
// WAL and synchronous = FULL; journal_mode is also stored in the file.
Status set_durability(sqlite3* db);

}  // namespace airlock::installer::sqlite
