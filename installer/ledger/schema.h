#pragma once
// The ledger's SQLite schema, version 5. Created once by Ledger::create();
// Ledger::open() refuses any file whose meta table does not say
// format = 'airlock-ledger' and schema_version '1' to '5', and upgrades
// an older file in place (k_migrate_1_to_2, k_migrate_2_to_3_replay,
// k_migrate_2_to_3_targets, k_migrate_3_to_4 and k_migrate_4_to_5, one
// transaction).
//
// Tables:
//   meta         key/value facts about the file itself (format, schema_version).
//   deployments  one row per deployment ever recorded: the active version (NULL
//                until set_active) and highest_sequence, the anti-replay
//                counter, which only ever grows (never lowered, not even by
//                forget_version).
//   versions     one row per deployment/version. `id` is the install order
//                (AUTOINCREMENT, so never reused and stable across VACUUM);
//                re-recording a "removed" version gives it a new id.
//   files        the files of one version, with size, SHA-256 and mode.
//   version_meta (v2) per version, the payload's `sources` and `activate` as
//                JSON text: what the install targets (HF cache, OCI layout,
//                apt, wheels) and activation are rebuilt from. Versions
//                installed under schema 1 have no row.
//   versions.index_sha256 (v3) the SHA-256 of the bundle's index file as
//                installed: "already installed" means the same bundle id AND
//                these bytes. NULL for versions recorded before schema 3.
//   rotations    (v3) one row per key rotation a bundle carried, by bundle id
//                and index hash: the change as JSON, the trust generation it
//                was admitted under, and its state: 'pending' (written in the
//                install's commit transaction), 'applied' (in one transaction
//                with its trust-rotate event) or 'superseded' (the trust
//                policy changed before it could be applied: reported, never
//                applied). A rotation applies once; recover() settles pending
//                rows.
//   target_entries (v3) every entry Airlock created in the install targets
//                (ROOT/hf, images, apt, wheels): target, path relative to
//                ROOT/<target>, kind ('file': value = its SHA-256; 'link': a
//                symlink, value = its text; 'ref': an HF ref file, value = its
//                exact content). Rewritten by each targets rebuild; only these
//                are ever removed there, and `check` re-verifies them.
//   events       the append-only audit log, hash-chained (see ledger.cc for
//                the hash encoding). Triggers make UPDATE and DELETE abort.
//   events.installer_version, events.installer_sha256 (v4) the installer
//                that wrote the event: its version and the SHA-256 of its
//                executable ("unavailable: ..." when it could not be read);
//                both NULL for events written before schema 4, which keep
//                their old hash formula.
//   chunk_maps   (v5) per installed version, where each of its chunks lies in
//                its files (format::encode_chunk_map) and the digest of its
//                chunk set: what a delta bundle naming this version as its
//                base is rebuilt from. Versions installed before schema 5 have
//                no row and cannot be a base. Removed with the version (gc).
//
// Unsigned 64-bit quantities (sequence, sizes) are stored as INTEGER and are
// limited to 0..INT64_MAX; record_version refuses anything larger.

namespace airlock::installer::schema {

inline constexpr int k_version = 5;
inline constexpr const char* k_format = "airlock-ledger";

// Constant DDL only: no values are ever spliced into SQL. A new ledger is
// k_create_sql (schema 1) followed by every migration, so there is one
// definition of each table.
inline constexpr const char* k_create_sql = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE deployments (
  name             TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
  active_version   TEXT,
  highest_sequence INTEGER NOT NULL DEFAULT 0 CHECK (highest_sequence >= 0)
) STRICT;

CREATE TABLE versions (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment   TEXT NOT NULL REFERENCES deployments(name),
  version      TEXT NOT NULL CHECK (version <> ''),
  bundle_id    TEXT NOT NULL UNIQUE CHECK (bundle_id <> ''),
  sequence     INTEGER NOT NULL CHECK (sequence >= 0),
  created_at   INTEGER NOT NULL,
  installed_at INTEGER NOT NULL,
  total_bytes  INTEGER NOT NULL CHECK (total_bytes >= 0),
  state        TEXT NOT NULL CHECK (state IN ('installed', 'removed')),
  UNIQUE (deployment, version)
) STRICT;

CREATE TABLE files (
  deployment TEXT NOT NULL,
  version    TEXT NOT NULL,
  path       TEXT NOT NULL CHECK (path <> ''),
  size       INTEGER NOT NULL CHECK (size >= 0),
  sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
  mode       INTEGER NOT NULL CHECK (mode >= 0),
  PRIMARY KEY (deployment, version, path),
  FOREIGN KEY (deployment, version) REFERENCES versions(deployment, version)
    ON DELETE CASCADE
) STRICT;

CREATE TABLE events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  time      INTEGER NOT NULL,
  user      TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL,
  result    TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
  hash      TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
) STRICT;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused');
END;
)sql";

// Schema 1 -> 2: the version_meta table.
inline constexpr const char* k_migrate_1_to_2 = R"sql(
CREATE TABLE version_meta (
  deployment TEXT NOT NULL,
  version    TEXT NOT NULL,
  sources    TEXT NOT NULL CHECK (json_valid(sources)),
  activate   TEXT NOT NULL CHECK (json_valid(activate)),
  PRIMARY KEY (deployment, version),
  FOREIGN KEY (deployment, version) REFERENCES versions(deployment, version)
    ON DELETE CASCADE
) STRICT;
)sql";

// Schema 2 -> 3 (trust and replay): the index hash of each version and the
// rotations table. Self-contained: other schema-3 additions have their own
// statements.
inline constexpr const char* k_migrate_2_to_3_replay = R"sql(
ALTER TABLE versions ADD COLUMN index_sha256 TEXT
  CHECK (index_sha256 IS NULL OR length(index_sha256) = 64);

CREATE TABLE rotations (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  bundle_id         TEXT NOT NULL UNIQUE CHECK (bundle_id <> ''),
  index_sha256      TEXT NOT NULL CHECK (length(index_sha256) = 64),
  target            TEXT NOT NULL,
  change            TEXT NOT NULL CHECK (json_valid(change)),
  trust_generation  INTEGER NOT NULL CHECK (trust_generation >= 0),
  state             TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'superseded')),
  recorded_at       INTEGER NOT NULL,
  settled_at        INTEGER,
  note              TEXT NOT NULL DEFAULT ''
) STRICT;
)sql";

// Schema 2 -> 3: the target_entries table.
inline constexpr const char* k_migrate_2_to_3_targets = R"sql(
CREATE TABLE target_entries (
  target TEXT NOT NULL CHECK (target IN ('hf', 'images', 'apt', 'wheels')),
  path   TEXT NOT NULL CHECK (path <> '' AND substr(path, 1, 1) <> '/'),
  kind   TEXT NOT NULL CHECK (kind IN ('file', 'link', 'ref')),
  value  TEXT NOT NULL,
  PRIMARY KEY (target, path)
) STRICT;
)sql";

// Schema 3 -> 4: which installer wrote each event. Old rows keep NULL (and
// their hash: the chain covers the new fields only where they are set).
inline constexpr const char* k_migrate_3_to_4 = R"sql(
ALTER TABLE events ADD COLUMN installer_version TEXT;
ALTER TABLE events ADD COLUMN installer_sha256 TEXT;
)sql";

// Schema 4 -> 5: the chunk maps of installed versions (delta bundles).
inline constexpr const char* k_migrate_4_to_5 = R"sql(
CREATE TABLE chunk_maps (
  deployment TEXT NOT NULL,
  version    TEXT NOT NULL,
  chunk_set  TEXT NOT NULL CHECK (length(chunk_set) = 64),
  map        BLOB NOT NULL,
  PRIMARY KEY (deployment, version),
  FOREIGN KEY (deployment, version) REFERENCES versions(deployment, version)
    ON DELETE CASCADE
) STRICT;
)sql";

}  // namespace airlock::installer::schema
