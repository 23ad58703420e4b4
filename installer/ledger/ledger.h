#pragma once
// The installer's ledger: one SQLite database (WAL, synchronous=FULL) that is
// the source of truth for what is installed and active on this site, the
// per-deployment highest sequence (anti-replay), and an append-only,
// hash-chained event log.
//
// Not thread-safe: one Ledger per process, used from one thread.
// Every mutating call is atomic on its own; with_transaction groups several.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/error.h"

struct sqlite3;

namespace airlock::installer {

struct FileRecord {
  std::string path;  // relative to the version directory, '/'-separated
  std::uint64_t size = 0;
  std::string sha256;  // lowercase hex
  std::uint32_t mode = 0644;
};

struct VersionRecord {
  std::string deployment;
  std::string version;
  std::string bundle_id;
  std::uint64_t sequence = 0;
  std::int64_t created_at = 0;    // bundle creation time (unix seconds, from the signed header)
  std::int64_t installed_at = 0;  // unix seconds
  std::uint64_t total_bytes = 0;
  std::string state = "installed";  // "installed" | "removed" (files deleted by gc)
  // SHA-256 (lowercase hex) of the bundle's index file; empty for versions
  // recorded before schema 3 (stored as NULL).
  std::string index_sha256;
};

// A key rotation carried by a bundle (schema 3). It applies once: 'pending'
// is written in the install's commit transaction, 'applied' in one
// transaction with its trust-rotate event, 'superseded' when the trust policy
// changed before it could be applied (then it never is).
struct RotationRecord {
  std::int64_t id = 0;
  std::string bundle_id;
  std::string index_sha256;
  std::string target;  // NAME/VERSION
  std::string change;  // the header's "trust" change as JSON
  std::int64_t trust_generation = 0;  // Ledger::trust_generation() when it was admitted
  std::string state = "pending";      // "pending" | "applied" | "superseded"
  std::int64_t recorded_at = 0;
  std::optional<std::int64_t> settled_at;
  std::string note;  // what was applied, or why it was superseded
};

// What a version's payload said beyond its files (schema 2): `sources` and
// `activate` as JSON text, "null" when the bundle had none or the version
// was installed under schema 1.
struct ChunkMapRecord {
  std::string chunk_set;  // lowercase hex
  Bytes map;
};

struct VersionMeta {
  std::string sources = "null";
  std::string activate = "null";
};

// One entry Airlock created in an install target (schema 3): what targets
// may remove again and what `check` re-verifies.
struct TargetEntry {
  std::string target;  // "hf" | "images" | "apt" | "wheels"
  std::string path;    // relative to ROOT/<target>, '/'-separated
  std::string kind;    // "file" (value: SHA-256) | "link" (value: symlink text) | "ref" (value: content)
  std::string value;
  bool operator==(const TargetEntry&) const = default;
};

struct DeploymentRecord {
  std::string name;
  std::optional<std::string> active_version;
  std::uint64_t highest_sequence = 0;
};

struct EventRecord {
  std::int64_t id = 0;
  std::int64_t time = 0;  // unix seconds
  std::string user;
  std::string action;  // "install", "activate", "rollback", "gc", "trust-add", ...
  std::string target;  // e.g. "llama/2026.11.0"
  std::string result;  // "ok", "failed", "refused"
  std::string detail;
  // The installer that wrote it (schema 4): its version and the SHA-256 of
  // its executable, or "unavailable: ..."; absent for older events.
  std::optional<std::string> installer_version;
  std::optional<std::string> installer_sha256;
  std::string prev_hash;  // hex; 64 zeros for the first event
  std::string hash;       // hex SHA-256 over prev_hash and the fields above (ledger.cc)
};

class Ledger {
 public:
  // Creates a new ledger file (kInvalidArgument if it already exists).
  static Result<std::unique_ptr<Ledger>> create(const std::filesystem::path& path);
  // Opens an existing ledger (kNotFound naming the path if it does not exist).
  static Result<std::unique_ptr<Ledger>> open(const std::filesystem::path& path);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back if fn fails.
  Status with_transaction(const std::function<Status()>& fn);

  // Version of an already-recorded bundle id, if any.
  Result<std::optional<VersionRecord>> find_bundle(const std::string& bundle_id);
  Result<std::optional<VersionRecord>> find_version(const std::string& deployment,
                                                    const std::string& version);
  // 0 when the deployment is unknown.
  Result<std::uint64_t> highest_sequence(const std::string& deployment);
  // The time floor: the newest bundle creation time (signed header, unix
  // seconds) of any version ever recorded on this site, 0 if none. The real
  // time cannot be earlier than this, whatever the clock says.
  Result<std::int64_t> newest_created();
  // Inserts the version and its files, creates the deployment if needed, and
  // raises its highest_sequence to version.sequence. kInvalidArgument if that
  // deployment/version already exists with state "installed".
  // A "removed" row for the same deployment/version is replaced.
  Status record_version(const VersionRecord& version, const std::vector<FileRecord>& files);
  Status set_active(const std::string& deployment, const std::string& version);
  // No version active (a first version whose activation failed).
  Status clear_active(const std::string& deployment);
  // Stores (replaces) the version's meta; kInvalidArgument if either text is not JSON.
  Status set_version_meta(const std::string& deployment, const std::string& version, const VersionMeta& meta);
  // The stored meta, or the "null" defaults when there is none.
  Result<VersionMeta> version_meta(const std::string& deployment, const std::string& version);
  // Where an installed version's chunks lie (format::encode_chunk_map) and
  // its chunk set digest (hex): what a delta bundle is rebuilt from.
  Status set_chunk_map(const std::string& deployment, const std::string& version, const std::string& chunk_set,
                       ByteSpan map);
  // nullopt: none kept (installed before schema 5, or removed).
  Result<std::optional<ChunkMapRecord>> chunk_map(const std::string& deployment, const std::string& version);
  Result<std::optional<std::string>> active_version(const std::string& deployment);
  Result<std::vector<DeploymentRecord>> deployments();
  // Versions of one deployment, oldest install first (including removed ones).
  Result<std::vector<VersionRecord>> versions(const std::string& deployment);
  Result<std::vector<FileRecord>> files(const std::string& deployment, const std::string& version);
  // Every recorded install-target entry, by target then path.
  Result<std::vector<TargetEntry>> target_entries();
  // Replaces the recorded entries of one target (kInvalidArgument, nothing
  // changed, if an entry names another target or breaks the table's checks).
  Status set_target_entries(const std::string& target, const std::vector<TargetEntry>& entries);
  Status mark_removed(const std::string& deployment, const std::string& version);
  // Deletes a version row and its files entirely (used when an install is undone).
  Status forget_version(const std::string& deployment, const std::string& version);

  // The trust policy's generation: the id of the newest successful event
  // that changed trust (trust-add, trust-remove, trust-threshold,
  // trust-revoke, trust-rotate), 0 if none. A rotation recorded under an
  // older generation than the current one is never applied.
  Result<std::int64_t> trust_generation();
  // The newest successful change of trust made by hand (trust-add,
  // trust-remove, trust-threshold, trust-revoke; not rotations), if any.
  Result<std::optional<EventRecord>> last_manual_trust_change();
  // Records a 'pending' rotation; kInvalidArgument if the bundle id already
  // has one (whatever its state) or a field is malformed.
  Status record_rotation(const RotationRecord& rotation);
  Result<std::optional<RotationRecord>> find_rotation(const std::string& bundle_id);
  // 'pending' rotations, oldest first.
  Result<std::vector<RotationRecord>> pending_rotations();
  // pending -> "applied" or "superseded", with a note; kInvalidArgument if
  // the bundle has no pending rotation.
  Status settle_rotation(const std::string& bundle_id, const std::string& state, const std::string& note,
                         std::int64_t time);

  // Appends an event, recording the running installer (self_identity.h);
  // computes prev_hash/hash. Returns the stored record.
  Result<EventRecord> append_event(std::int64_t time, const std::string& user,
                                   const std::string& action, const std::string& target,
                                   const std::string& result, const std::string& detail);
  // All events, oldest first; with a target prefix only those whose target
  // equals it or starts with it followed by '/'.
  Result<std::vector<EventRecord>> events(const std::optional<std::string>& target_prefix = {});
  // Recomputes the chain; kCorruption naming the first event id that breaks
  // it (also an event without the installer fields after one with them).
  Status verify_event_chain();

 private:
  explicit Ledger(sqlite3* db);
  sqlite3* m_db;
};

}  // namespace airlock::installer
