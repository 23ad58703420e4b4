#include "installer/ledger/migrations.h"

#include <optional>
#include <string>

#include "installer/ledger/schema.h"
#include "installer/ledger/sqlite.h"

namespace airlock::installer::migrations {

using sqlite::atomically;
using sqlite::exec;
using sqlite::ledger_error;
using sqlite::Stmt;

Status check_is_ledger(sqlite3* db) {
  auto not_a_ledger = [db] {
    return ledger_error(db, ErrorCode::kCorruption, "not an airlock ledger ({})", sqlite3_errmsg(db));
  };
  auto meta_table = Stmt::prepare(
      db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
      "reading the schema");
  if (!meta_table) {
    if (meta_table.error().code() == ErrorCode::kCorruption) return not_a_ledger();
    return std::unexpected(meta_table.error());
  }
  auto has_row = meta_table->step();
  if (!has_row) {
    if (has_row.error().code() == ErrorCode::kCorruption) return not_a_ledger();
    return std::unexpected(has_row.error());
  }
  if (!*has_row || meta_table->column_int(0) != 1) {
    return ledger_error(db, ErrorCode::kCorruption, "not an airlock ledger (no meta table)");
  }

  auto read_meta = [db](const char* key) -> Result<std::optional<std::string>> {
    ASSIGN_OR_RETURN(Stmt stmt, Stmt::prepare(db, "SELECT value FROM meta WHERE key = ?1",
                                              "reading the meta table"));
    stmt.text(1, key);
    ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(stmt.column_text(0));
  };
  ASSIGN_OR_RETURN(std::optional<std::string> format, read_meta("format"));
  if (format != schema::k_format) {
    return ledger_error(db, ErrorCode::kCorruption, "not an airlock ledger (meta format is '{}')",
                        format.value_or("<missing>"));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> version, read_meta("schema_version"));
  if (!version) {
    return ledger_error(db, ErrorCode::kCorruption, "the meta table has no schema_version");
  }
  if (*version != "1" && *version != "2" && *version != "3" && *version != "4" &&
      *version != std::to_string(schema::k_version)) {
    return ledger_error(db, ErrorCode::kUnsupported,
                        "unknown ledger schema version '{}' (this airlock supports version {})",
                        *version, schema::k_version);
  }
  return ok_status();
}

Status upgrade_schema(sqlite3* db) {
  return atomically(db, "upgrading the ledger schema", [db]() -> Status {
    ASSIGN_OR_RETURN(Stmt read, Stmt::prepare(db, "SELECT value FROM meta WHERE key = 'schema_version'",
                                              "reading the meta table"));
    ASSIGN_OR_RETURN(bool row, read.step());
    const std::string from = row ? read.column_text(0) : std::string();
    if (from != "1" && from != "2" && from != "3" && from != "4") {
      return ok_status();
    }
    if (from == "1") {
      TRY(exec(db, schema::k_migrate_1_to_2, "adding the version_meta table"));
    }
    if (from == "1" || from == "2") {
      TRY(exec(db, schema::k_migrate_2_to_3_replay, "adding index hashes and the rotations table"));
      TRY(exec(db, schema::k_migrate_2_to_3_targets, "adding the target_entries table"));
    }
    if (from != "4") {
      TRY(exec(db, schema::k_migrate_3_to_4, "adding the installer identity to events"));
    }
    TRY(exec(db, schema::k_migrate_4_to_5, "adding the chunk_maps table"));
    ASSIGN_OR_RETURN(Stmt update, Stmt::prepare(db, "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                                                "writing the meta table"));
    update.text(1, std::to_string(schema::k_version));
    return update.run();
  });
}

}  // namespace airlock::installer::migrations
