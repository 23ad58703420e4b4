#include "installer/ledger/ledger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/base/bytes.h"
#include "core/base/text.h"
#include "installer/ledger/event_chain.h"
#include "installer/ledger/migrations.h"
#include "installer/ledger/schema.h"
#include "installer/ledger/sqlite.h"
#include "installer/ledger/self_identity.h"

namespace airlock::installer {

namespace stdfs = std::filesystem;

namespace {

using sqlite::exec;
using sqlite::ledger_error;
using sqlite::Stmt;
using sqlite::atomically;
using sqlite::sqlite_error;
using sqlite::set_durability;
using sqlite::set_pragmas;
using migrations::check_is_ledger;
using migrations::upgrade_schema;
using event_chain::event_hash;
using event_chain::k_zero_hash;

constexpr std::uint64_t k_max_stored = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

Status sync_directory(const stdfs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(ErrorCode::kIOError, "opening directory {}: {}", dir.string(), std::strerror(errno));
  }
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) {
    return make_error(ErrorCode::kIOError, "syncing directory {}: {}", dir.string(), std::strerror(saved));
  }
  return ok_status();
}

constexpr const char* k_version_columns =
    "deployment, version, bundle_id, sequence, created_at, installed_at, total_bytes, state, index_sha256";

VersionRecord read_version(const Stmt& s) {
  VersionRecord v;
  v.deployment = s.column_text(0);
  v.version = s.column_text(1);
  v.bundle_id = s.column_text(2);
  v.sequence = s.column_uint(3);
  v.created_at = s.column_int(4);
  v.installed_at = s.column_int(5);
  v.total_bytes = s.column_uint(6);
  v.state = s.column_text(7);
  v.index_sha256 = s.column_optional_text(8).value_or("");
  return v;
}

EventRecord read_event(const Stmt& s) {
  EventRecord e;
  e.id = s.column_int(0);
  e.time = s.column_int(1);
  e.user = s.column_text(2);
  e.action = s.column_text(3);
  e.target = s.column_text(4);
  e.result = s.column_text(5);
  e.detail = s.column_text(6);
  e.prev_hash = s.column_text(7);
  e.hash = s.column_text(8);
  e.installer_version = s.column_optional_text(9);
  e.installer_sha256 = s.column_optional_text(10);
  return e;
}

Result<std::optional<VersionRecord>> lookup_version(sqlite3* db, const std::string& deployment,
                                                    const std::string& version) {
  static const std::string sql =
      fmt::format("SELECT {} FROM versions WHERE deployment = ?1 AND version = ?2", k_version_columns);
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, sql.c_str(), "looking up a version"));
  s.text(1, deployment).text(2, version);
  ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<VersionRecord>();
  return std::optional<VersionRecord>(read_version(s));
}

Result<std::optional<std::string>> lookup_active(sqlite3* db, const std::string& deployment) {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, "SELECT active_version FROM deployments WHERE name = ?1",
                                         "reading the active version"));
  s.text(1, deployment);
  ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<std::string>();
  return s.column_optional_text(0);
}

// The version, which must exist (kNotFound otherwise).
Result<VersionRecord> require_version(sqlite3* db, const std::string& deployment,
                                      const std::string& version) {
  ASSIGN_OR_RETURN(std::optional<VersionRecord> found, lookup_version(db, deployment, version));
  if (!found) {
    return ledger_error(db, ErrorCode::kNotFound, "{}/{} is not recorded", deployment, version);
  }
  return std::move(*found);
}

}  // namespace

// The running installer's executable is opened now, once per process, and
// hashed when the first event is written.
Ledger::Ledger(sqlite3* db) : m_db(db) { (void)SelfIdentity::running(); }

Ledger::~Ledger() { sqlite3_close_v2(m_db); }

Result<std::unique_ptr<Ledger>> Ledger::create(const std::filesystem::path& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    stdfs::path p = path;
    p += suffix;
    if (stdfs::exists(stdfs::symlink_status(p, ec))) {
      if (*suffix == '\0') {
        return make_error(ErrorCode::kInvalidArgument, "ledger {} already exists", path.string());
      }
      return make_error(ErrorCode::kInvalidArgument, "cannot create ledger {}: {} already exists",
                        path.string(), p.string());
    }
  }
  // Claim the name atomically; SQLite treats an empty file as an empty database.
  // 0600: it holds every event, source and [activate] command; SQLite gives
  // its -wal and -shm the database's mode.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    const ErrorCode code = err == EEXIST   ? ErrorCode::kInvalidArgument
                           : err == ENOENT ? ErrorCode::kNotFound
                                           : ErrorCode::kIOError;
    return make_error(code, "cannot create ledger {}: {}", path.string(), std::strerror(err));
  }
  ::close(fd);

  auto remove_files = [&path] {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      stdfs::path p = path;
      p += suffix;
      stdfs::remove(p, ignored);
    }
  };

  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    Error error = sqlite_error(db, rc, "opening");
    sqlite3_close_v2(db);
    remove_files();
    return std::unexpected(std::move(error));
  }
  std::unique_ptr<Ledger> ledger(new Ledger(db));

  Status status = set_pragmas(db);
  if (status) status = set_durability(db);
  if (status) {
    status = atomically(db, "creating the schema", [db]() -> Status {
      TRY(exec(db, schema::k_create_sql, "creating the schema"));
      TRY(exec(db, schema::k_migrate_1_to_2, "creating the schema"));
      TRY(exec(db, schema::k_migrate_2_to_3_replay, "creating the schema"));
      TRY(exec(db, schema::k_migrate_2_to_3_targets, "creating the schema"));
      TRY(exec(db, schema::k_migrate_3_to_4, "creating the schema"));
      TRY(exec(db, schema::k_migrate_4_to_5, "creating the schema"));
      ASSIGN_OR_RETURN(Stmt meta, Stmt::prepare(db, "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                                                "writing the meta table"));
      meta.text(1, "format").text(2, schema::k_format);
      TRY(meta.run());
      meta.reset();
      meta.text(1, "schema_version").text(2, std::to_string(schema::k_version));
      return meta.run();
    });
  }
  if (status) status = sync_directory(path.parent_path());
  if (!status) {
    ledger.reset();
    remove_files();
    return std::unexpected(std::move(status).error());
  }
  return ledger;
}

Result<std::unique_ptr<Ledger>> Ledger::open(const std::filesystem::path& path) {
  std::error_code ec;
  const stdfs::file_status st = stdfs::status(path, ec);
  if (!stdfs::exists(st)) {
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return make_error(ErrorCode::kIOError, "ledger {}: {}", path.string(), ec.message());
    }
    return make_error(ErrorCode::kNotFound, "ledger {} does not exist", path.string());
  }
  if (!stdfs::is_regular_file(st)) {
    return make_error(ErrorCode::kCorruption, "ledger {} is not a regular file", path.string());
  }

  // Ledgers made before 0600 (and their -wal/-shm) are made private now.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    stdfs::path p = path;
    p += suffix;
    struct stat pst {};
    if (::lstat(p.c_str(), &pst) == 0 && S_ISREG(pst.st_mode) && (pst.st_mode & 077) != 0 &&
        ::chmod(p.c_str(), pst.st_mode & 0700) != 0) {
      return make_error(ErrorCode::kIOError, "ledger {}: cannot make it private (chmod 600): {}", p.string(),
                        std::strerror(errno));
    }
  }

  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    Error error = sqlite_error(db, rc, "opening");
    sqlite3_close_v2(db);
    return std::unexpected(std::move(error));
  }
  std::unique_ptr<Ledger> ledger(new Ledger(db));
  // Check what the file is before changing anything in it (WAL is persistent).
  TRY(set_pragmas(db));
  TRY(check_is_ledger(db));
  TRY(set_durability(db));
  TRY(upgrade_schema(db));
  return ledger;
}

Status Ledger::with_transaction(const std::function<Status()>& fn) {
  if (!fn) return ledger_error(m_db, ErrorCode::kInvalidArgument, "with_transaction: no function");
  return atomically(m_db, "with_transaction", fn);
}

Result<std::optional<VersionRecord>> Ledger::find_bundle(const std::string& bundle_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM versions WHERE bundle_id = ?1", k_version_columns);
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, sql.c_str(), "looking up a bundle id"));
  s.text(1, bundle_id);
  ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<VersionRecord>();
  return std::optional<VersionRecord>(read_version(s));
}

Result<std::optional<VersionRecord>> Ledger::find_version(const std::string& deployment,
                                                          const std::string& version) {
  return lookup_version(m_db, deployment, version);
}

Result<std::uint64_t> Ledger::highest_sequence(const std::string& deployment) {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, "SELECT highest_sequence FROM deployments WHERE name = ?1",
                                         "reading the highest sequence"));
  s.text(1, deployment);
  ASSIGN_OR_RETURN(bool row, s.step());
  return row ? s.column_uint(0) : std::uint64_t{0};
}

Result<std::int64_t> Ledger::newest_created() {
  // Removed versions count too: the floor never goes down.
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, "SELECT COALESCE(MAX(created_at), 0) FROM versions",
                                         "reading the time floor"));
  ASSIGN_OR_RETURN(bool row, s.step());
  return row ? s.column_int(0) : std::int64_t{0};
}

Status Ledger::record_version(const VersionRecord& v, const std::vector<FileRecord>& files) {
  const auto invalid = [this](std::string_view why) {
    return ledger_error(m_db, ErrorCode::kInvalidArgument, "cannot record version: {}", why);
  };
  if (v.deployment.empty()) return invalid("empty deployment name");
  if (v.version.empty()) return invalid("empty version");
  if (v.bundle_id.empty()) return invalid("empty bundle id");
  if (v.state != "installed" && v.state != "removed") {
    return invalid(fmt::format("unknown state '{}'", v.state));
  }
  if (v.sequence > k_max_stored) return invalid(fmt::format("sequence {} is too large", v.sequence));
  if (v.total_bytes > k_max_stored) return invalid(fmt::format("total_bytes {} is too large", v.total_bytes));
  if (!v.index_sha256.empty() && !text::is_lower_hex(v.index_sha256, 64)) {
    return invalid("index_sha256 is not 64 lowercase hex digits");
  }
  std::set<std::string_view> paths;
  for (const FileRecord& f : files) {
    if (f.path.empty()) return invalid("a file has an empty path");
    if (!paths.insert(f.path).second) return invalid(fmt::format("file {} is listed twice", f.path));
    if (f.size > k_max_stored) return invalid(fmt::format("file {} is too large", f.path));
    if (!text::is_lower_hex(f.sha256, 64)) {
      return invalid(fmt::format("file {}: sha256 is not 64 lowercase hex digits", f.path));
    }
  }

  return atomically(m_db, "recording a version", [&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<VersionRecord> existing, lookup_version(m_db, v.deployment, v.version));
    if (existing && existing->state != "removed") {
      return ledger_error(m_db, ErrorCode::kInvalidArgument, "{}/{} is already recorded as {} (bundle {})",
                          v.deployment, v.version, existing->state, existing->bundle_id);
    }
    ASSIGN_OR_RETURN(std::optional<VersionRecord> same_bundle, find_bundle(v.bundle_id));
    if (same_bundle && !(same_bundle->deployment == v.deployment && same_bundle->version == v.version)) {
      return ledger_error(m_db, ErrorCode::kInvalidArgument, "bundle {} is already recorded as {}/{}",
                          v.bundle_id, same_bundle->deployment, same_bundle->version);
    }

    ASSIGN_OR_RETURN(Stmt upsert,
                     Stmt::prepare(m_db,
                                   "INSERT INTO deployments (name, highest_sequence) VALUES (?1, ?2) "
                                   "ON CONFLICT (name) DO UPDATE SET "
                                   "highest_sequence = max(highest_sequence, excluded.highest_sequence)",
                                   "recording the deployment"));
    upsert.text(1, v.deployment).integer(2, static_cast<std::int64_t>(v.sequence));
    TRY(upsert.run());

    if (existing) {  // a "removed" row: replace it (and its file list)
      ASSIGN_OR_RETURN(Stmt del_files, Stmt::prepare(m_db,
                                                     "DELETE FROM files WHERE deployment = ?1 AND version = ?2",
                                                     "replacing a removed version's files"));
      del_files.text(1, v.deployment).text(2, v.version);
      TRY(del_files.run());
      ASSIGN_OR_RETURN(Stmt del, Stmt::prepare(m_db,
                                               "DELETE FROM versions WHERE deployment = ?1 AND version = ?2",
                                               "replacing a removed version"));
      del.text(1, v.deployment).text(2, v.version);
      TRY(del.run());
    }

    ASSIGN_OR_RETURN(Stmt insert,
                     Stmt::prepare(m_db,
                                   "INSERT INTO versions (deployment, version, bundle_id, sequence, "
                                   "created_at, installed_at, total_bytes, state, index_sha256) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                   "recording the version"));
    insert.text(1, v.deployment)
        .text(2, v.version)
        .text(3, v.bundle_id)
        .integer(4, static_cast<std::int64_t>(v.sequence))
        .integer(5, v.created_at)
        .integer(6, v.installed_at)
        .integer(7, static_cast<std::int64_t>(v.total_bytes))
        .text(8, v.state)
        .optional_text(9, v.index_sha256.empty() ? std::nullopt : std::optional<std::string>(v.index_sha256));
    TRY(insert.run());

    ASSIGN_OR_RETURN(Stmt file,
                     Stmt::prepare(m_db,
                                   "INSERT INTO files (deployment, version, path, size, sha256, mode) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                   "recording the version's files"));
    for (const FileRecord& f : files) {
      file.reset();
      file.text(1, v.deployment)
          .text(2, v.version)
          .text(3, f.path)
          .integer(4, static_cast<std::int64_t>(f.size))
          .text(5, f.sha256)
          .integer(6, f.mode);
      TRY(file.run());
    }
    return ok_status();
  });
}

Status Ledger::set_active(const std::string& deployment, const std::string& version) {
  return atomically(m_db, "setting the active version", [&]() -> Status {
    ASSIGN_OR_RETURN(VersionRecord found, require_version(m_db, deployment, version));
    if (found.state != "installed") {
      return ledger_error(m_db, ErrorCode::kInvalidArgument, "{}/{} is {}; it cannot be made active",
                          deployment, version, found.state);
    }
    ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, "UPDATE deployments SET active_version = ?2 WHERE name = ?1",
                                           "setting the active version"));
    s.text(1, deployment).text(2, version);
    TRY(s.run());
    if (sqlite3_changes(m_db) != 1) {
      return ledger_error(m_db, ErrorCode::kCorruption, "deployment {} has versions but no row", deployment);
    }
    return ok_status();
  });
}

Result<std::optional<std::string>> Ledger::active_version(const std::string& deployment) {
  return lookup_active(m_db, deployment);
}

Result<std::vector<DeploymentRecord>> Ledger::deployments() {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT name, active_version, highest_sequence FROM deployments "
                                         "ORDER BY name",
                                         "listing deployments"));
  std::vector<DeploymentRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(DeploymentRecord{s.column_text(0), s.column_optional_text(1), s.column_uint(2)});
  }
  return out;
}

Result<std::vector<VersionRecord>> Ledger::versions(const std::string& deployment) {
  static const std::string sql =
      fmt::format("SELECT {} FROM versions WHERE deployment = ?1 ORDER BY id", k_version_columns);
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, sql.c_str(), "listing versions"));
  s.text(1, deployment);
  std::vector<VersionRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(read_version(s));
  }
  return out;
}

Result<std::vector<FileRecord>> Ledger::files(const std::string& deployment, const std::string& version) {
  TRY(require_version(m_db, deployment, version));
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT path, size, sha256, mode FROM files "
                                         "WHERE deployment = ?1 AND version = ?2 ORDER BY path",
                                         "listing files"));
  s.text(1, deployment).text(2, version);
  std::vector<FileRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(FileRecord{s.column_text(0), s.column_uint(1), s.column_text(2),
                             static_cast<std::uint32_t>(s.column_uint(3))});
  }
  return out;
}

Status Ledger::clear_active(const std::string& deployment) {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, "UPDATE deployments SET active_version = NULL WHERE name = ?1",
                                         "clearing the active version"));
  s.text(1, deployment);
  return s.run();
}

Status Ledger::set_version_meta(const std::string& deployment, const std::string& version, const VersionMeta& meta) {
  return atomically(m_db, "recording a version's sources", [&]() -> Status {
    TRY(require_version(m_db, deployment, version));
    ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                           "INSERT OR REPLACE INTO version_meta (deployment, version, sources, activate) "
                                           "VALUES (?1, ?2, ?3, ?4)",
                                           "recording a version's sources"));
    if (!nlohmann::json::accept(meta.sources) || !nlohmann::json::accept(meta.activate)) {
      return ledger_error(m_db, ErrorCode::kInvalidArgument, "{}/{}: sources or activate is not JSON", deployment,
                          version);
    }
    s.text(1, deployment).text(2, version).text(3, meta.sources).text(4, meta.activate);
    return s.run();
  });
}

Result<VersionMeta> Ledger::version_meta(const std::string& deployment, const std::string& version) {
  TRY(require_version(m_db, deployment, version));
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT sources, activate FROM version_meta "
                                         "WHERE deployment = ?1 AND version = ?2",
                                         "reading a version's sources"));
  s.text(1, deployment).text(2, version);
  ASSIGN_OR_RETURN(bool row, s.step());
  VersionMeta out;
  if (row) {
    out.sources = s.column_text(0);
    out.activate = s.column_text(1);
  }
  return out;
}

Status Ledger::set_chunk_map(const std::string& deployment, const std::string& version, const std::string& chunk_set,
                             ByteSpan map) {
  return atomically(m_db, "recording a version's chunk map", [&]() -> Status {
    TRY(require_version(m_db, deployment, version));
    ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                           "INSERT OR REPLACE INTO chunk_maps (deployment, version, chunk_set, map) "
                                           "VALUES (?1, ?2, ?3, ?4)",
                                           "recording a version's chunk map"));
    s.text(1, deployment).text(2, version).text(3, chunk_set).blob(4, as_chars(map));
    return s.run();
  });
}

Result<std::optional<ChunkMapRecord>> Ledger::chunk_map(const std::string& deployment, const std::string& version) {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT chunk_set, map FROM chunk_maps WHERE deployment = ?1 AND version = ?2",
                                         "reading a version's chunk map"));
  s.text(1, deployment).text(2, version);
  ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) {
    return std::optional<ChunkMapRecord>();
  }
  ChunkMapRecord out;
  out.chunk_set = s.column_text(0);
  out.map = s.column_blob(1);
  return std::optional<ChunkMapRecord>(std::move(out));
}

Result<std::vector<TargetEntry>> Ledger::target_entries() {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT target, path, kind, value FROM target_entries "
                                         "ORDER BY target, path",
                                         "listing the install targets' entries"));
  std::vector<TargetEntry> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(TargetEntry{s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3)});
  }
  return out;
}

Status Ledger::set_target_entries(const std::string& target, const std::vector<TargetEntry>& entries) {
  return atomically(m_db, "recording the install targets' entries", [&]() -> Status {
    ASSIGN_OR_RETURN(Stmt del, Stmt::prepare(m_db, "DELETE FROM target_entries WHERE target = ?1",
                                             "replacing the install targets' entries"));
    del.text(1, target);
    TRY(del.run());
    ASSIGN_OR_RETURN(Stmt insert, Stmt::prepare(m_db,
                                                "INSERT INTO target_entries (target, path, kind, value) "
                                                "VALUES (?1, ?2, ?3, ?4)",
                                                "recording the install targets' entries"));
    for (const TargetEntry& e : entries) {
      if (e.target != target) {
        return ledger_error(m_db, ErrorCode::kInvalidArgument, "target entry {}/{} is not in target {}", e.target,
                            e.path, target);
      }
      insert.reset();
      insert.text(1, e.target).text(2, e.path).text(3, e.kind).text(4, e.value);
      TRY(insert.run());
    }
    return ok_status();
  });
}

Status Ledger::mark_removed(const std::string& deployment, const std::string& version) {
  return atomically(m_db, "marking a version removed", [&]() -> Status {
    TRY(require_version(m_db, deployment, version));
    ASSIGN_OR_RETURN(std::optional<std::string> active, lookup_active(m_db, deployment));
    if (active == version) {
      return ledger_error(m_db, ErrorCode::kInvalidArgument, "{}/{} is the active version; it cannot be removed",
                          deployment, version);
    }
    ASSIGN_OR_RETURN(Stmt map, Stmt::prepare(m_db, "DELETE FROM chunk_maps WHERE deployment = ?1 AND version = ?2",
                                             "forgetting a version's chunk map"));
    map.text(1, deployment).text(2, version);
    TRY(map.run());  // its files are gone: it can no longer be a delta's base
    ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                           "UPDATE versions SET state = 'removed' "
                                           "WHERE deployment = ?1 AND version = ?2",
                                           "marking a version removed"));
    s.text(1, deployment).text(2, version);
    return s.run();
  });
}

Status Ledger::forget_version(const std::string& deployment, const std::string& version) {
  return atomically(m_db, "forgetting a version", [&]() -> Status {
    TRY(require_version(m_db, deployment, version));
    // An undone install is no longer active either. highest_sequence stays.
    ASSIGN_OR_RETURN(Stmt unset, Stmt::prepare(m_db,
                                               "UPDATE deployments SET active_version = NULL "
                                               "WHERE name = ?1 AND active_version = ?2",
                                               "clearing the active version"));
    unset.text(1, deployment).text(2, version);
    TRY(unset.run());
    ASSIGN_OR_RETURN(Stmt del_files, Stmt::prepare(m_db,
                                                   "DELETE FROM files WHERE deployment = ?1 AND version = ?2",
                                                   "forgetting a version's files"));
    del_files.text(1, deployment).text(2, version);
    TRY(del_files.run());
    ASSIGN_OR_RETURN(Stmt del_map, Stmt::prepare(m_db,
                                                 "DELETE FROM chunk_maps WHERE deployment = ?1 AND version = ?2",
                                                 "forgetting a version's chunk map"));
    del_map.text(1, deployment).text(2, version);
    TRY(del_map.run());
    ASSIGN_OR_RETURN(Stmt del, Stmt::prepare(m_db,
                                             "DELETE FROM versions WHERE deployment = ?1 AND version = ?2",
                                             "forgetting a version"));
    del.text(1, deployment).text(2, version);
    return del.run();
  });
}

namespace {

constexpr const char* k_rotation_columns =
    "id, bundle_id, index_sha256, target, change, trust_generation, state, recorded_at, settled_at, note";

RotationRecord read_rotation(const Stmt& s) {
  RotationRecord r;
  r.id = s.column_int(0);
  r.bundle_id = s.column_text(1);
  r.index_sha256 = s.column_text(2);
  r.target = s.column_text(3);
  r.change = s.column_text(4);
  r.trust_generation = s.column_int(5);
  r.state = s.column_text(6);
  r.recorded_at = s.column_int(7);
  if (auto t = s.column_optional_text(8)) {
    r.settled_at = s.column_int(8);
  }
  r.note = s.column_text(9);
  return r;
}

}  // namespace

Result<std::int64_t> Ledger::trust_generation() {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT COALESCE(MAX(id), 0) FROM events WHERE result = 'ok' AND action IN "
                                         "('trust-add', 'trust-remove', 'trust-threshold', 'trust-revoke', "
                                         "'trust-rotate')",
                                         "reading the trust generation"));
  ASSIGN_OR_RETURN(bool row, s.step());
  return row ? s.column_int(0) : std::int64_t{0};
}

Result<std::optional<EventRecord>> Ledger::last_manual_trust_change() {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT id, time, user, action, target, result, detail, prev_hash, hash, "
                                         "installer_version, installer_sha256 "
                                         "FROM events WHERE result = 'ok' AND action IN "
                                         "('trust-add', 'trust-remove', 'trust-threshold', 'trust-revoke') "
                                         "ORDER BY id DESC LIMIT 1",
                                         "reading the last change of trust"));
  ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<EventRecord>();
  return std::optional<EventRecord>(read_event(s));
}

Status Ledger::record_rotation(const RotationRecord& r) {
  if (r.bundle_id.empty() || !text::is_lower_hex(r.index_sha256, 64) || !nlohmann::json::accept(r.change)) {
    return ledger_error(m_db, ErrorCode::kInvalidArgument,
                        "cannot record the rotation of bundle '{}': empty bundle id, bad index hash or change",
                        r.bundle_id);
  }
  return atomically(m_db, "recording a key rotation", [&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<RotationRecord> existing, find_rotation(r.bundle_id));
    if (existing) {
      return ledger_error(m_db, ErrorCode::kInvalidArgument,
                          "bundle {} already has a recorded key rotation ({}); a rotation applies once",
                          r.bundle_id, existing->state);
    }
    ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                           "INSERT INTO rotations (bundle_id, index_sha256, target, change, "
                                           "trust_generation, state, recorded_at, note) "
                                           "VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, '')",
                                           "recording a key rotation"));
    s.text(1, r.bundle_id)
        .text(2, r.index_sha256)
        .text(3, r.target)
        .text(4, r.change)
        .integer(5, r.trust_generation)
        .integer(6, r.recorded_at);
    return s.run();
  });
}

Result<std::optional<RotationRecord>> Ledger::find_rotation(const std::string& bundle_id) {
  static const std::string sql = fmt::format("SELECT {} FROM rotations WHERE bundle_id = ?1", k_rotation_columns);
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, sql.c_str(), "looking up a key rotation"));
  s.text(1, bundle_id);
  ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<RotationRecord>();
  return std::optional<RotationRecord>(read_rotation(s));
}

Result<std::vector<RotationRecord>> Ledger::pending_rotations() {
  static const std::string sql =
      fmt::format("SELECT {} FROM rotations WHERE state = 'pending' ORDER BY id", k_rotation_columns);
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, sql.c_str(), "listing pending key rotations"));
  std::vector<RotationRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(read_rotation(s));
  }
  return out;
}

Status Ledger::settle_rotation(const std::string& bundle_id, const std::string& state, const std::string& note,
                               std::int64_t time) {
  if (state != "applied" && state != "superseded") {
    return ledger_error(m_db, ErrorCode::kInvalidArgument, "a rotation cannot be settled as '{}'", state);
  }
  return atomically(m_db, "settling a key rotation", [&]() -> Status {
    ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                           "UPDATE rotations SET state = ?2, note = ?3, settled_at = ?4 "
                                           "WHERE bundle_id = ?1 AND state = 'pending'",
                                           "settling a key rotation"));
    s.text(1, bundle_id).text(2, state).text(3, note).integer(4, time);
    TRY(s.run());
    if (sqlite3_changes(m_db) != 1) {
      return ledger_error(m_db, ErrorCode::kInvalidArgument,
                          "bundle {} has no pending key rotation (a rotation is settled once)", bundle_id);
    }
    return ok_status();
  });
}

Result<EventRecord> Ledger::append_event(std::int64_t time, const std::string& user,
                                         const std::string& action, const std::string& target,
                                         const std::string& result, const std::string& detail) {
  EventRecord e;
  e.time = time;
  // Escaped before hashing and storing: a target or detail quoting the
  // unverified header of a refused bundle (or a key id from its envelope)
  // must not put ESC, CR or LF into the ledger, where `history` would print
  // them; the hash covers the stored text, so the chain still verifies.
  e.user = text::escape_untrusted(user);
  e.action = text::escape_untrusted(action);
  e.target = text::escape_untrusted(target);
  e.result = text::escape_untrusted(result);
  e.detail = text::escape_untrusted(detail);
  SelfIdentity& self = SelfIdentity::running();
  e.installer_version = text::escape_untrusted(self.version());
  e.installer_sha256 = text::escape_untrusted(self.sha256());
  TRY(atomically(m_db, "appending an event", [&]() -> Status {
    ASSIGN_OR_RETURN(Stmt last, Stmt::prepare(m_db, "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
                                              "reading the last event"));
    ASSIGN_OR_RETURN(bool row, last.step());
    if (row) {
      e.id = last.column_int(0) + 1;
      e.prev_hash = last.column_text(1);
    } else {
      e.id = 1;
      e.prev_hash = std::string(k_zero_hash);
    }
    ASSIGN_OR_RETURN(e.hash, event_hash(e));
    ASSIGN_OR_RETURN(Stmt insert,
                     Stmt::prepare(m_db,
                                   "INSERT INTO events (id, time, user, action, target, result, detail, "
                                   "prev_hash, hash, installer_version, installer_sha256) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                   "appending an event"));
    insert.integer(1, e.id)
        .integer(2, e.time)
        .text(3, e.user)
        .text(4, e.action)
        .text(5, e.target)
        .text(6, e.result)
        .text(7, e.detail)
        .text(8, e.prev_hash)
        .text(9, e.hash)
        .optional_text(10, e.installer_version)
        .optional_text(11, e.installer_sha256);
    return insert.run();
  }));
  return e;
}

Result<std::vector<EventRecord>> Ledger::events(const std::optional<std::string>& target_prefix) {
  // target == prefix, or target's bytes start with prefix + '/' (compared as
  // BLOBs: byte-exact, no LIKE wildcards to escape).
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT id, time, user, action, target, result, detail, prev_hash, hash, "
                                         "installer_version, installer_sha256 "
                                         "FROM events WHERE ?1 IS NULL OR target = ?1 "
                                         "OR substr(CAST(target AS BLOB), 1, length(?2)) = ?2 "
                                         "ORDER BY id",
                                         "listing events"));
  if (target_prefix) {
    s.text(1, *target_prefix).blob(2, *target_prefix + "/");
  } else {
    s.null(1).null(2);
  }
  std::vector<EventRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(read_event(s));
  }
  return out;
}

Status Ledger::verify_event_chain() {
  ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db,
                                         "SELECT id, time, user, action, target, result, detail, prev_hash, hash, "
                                         "installer_version, installer_sha256 "
                                         "FROM events ORDER BY id",
                                         "verifying the event chain"));
  std::string expected_prev(k_zero_hash);
  std::int64_t expected_id = 1;
  std::int64_t first_identified = 0;  // the first event that records its installer
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    const EventRecord e = read_event(s);
    if (e.installer_version.has_value() != e.installer_sha256.has_value()) {
      return ledger_error(m_db, ErrorCode::kCorruption,
                          "event chain broken at event {}: it has only one of installer_version and "
                          "installer_sha256",
                          e.id);
    }
    if (e.installer_version) {
      first_identified = first_identified == 0 ? e.id : first_identified;
    } else if (first_identified != 0) {
      return ledger_error(m_db, ErrorCode::kCorruption,
                          "event chain broken at event {}: it lacks the installer identity that every event since "
                          "event {} records",
                          e.id, first_identified);
    }
    if (e.id != expected_id) {
      return ledger_error(m_db, ErrorCode::kCorruption,
                          "event chain broken at event {}: expected event {} (events are missing)", e.id,
                          expected_id);
    }
    if (e.prev_hash != expected_prev) {
      return ledger_error(m_db, ErrorCode::kCorruption,
                          "event chain broken at event {}: prev_hash does not match the previous event",
                          e.id);
    }
    ASSIGN_OR_RETURN(std::string computed, event_hash(e));
    if (computed != e.hash) {
      return ledger_error(m_db, ErrorCode::kCorruption,
                          "event chain broken at event {}: its hash does not match its contents", e.id);
    }
    expected_prev = e.hash;
    ++expected_id;
  }
  return ok_status();
}

}  // namespace airlock::installer
