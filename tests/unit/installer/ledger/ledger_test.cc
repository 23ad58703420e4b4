#include "installer/ledger/ledger.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/bytes.h"

namespace fs = std::filesystem;
using airlock::ErrorCode;
using airlock::Status;
using airlock::installer::EventRecord;
using airlock::installer::FileRecord;
using airlock::installer::Ledger;
using airlock::installer::RotationRecord;
using airlock::installer::VersionRecord;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "airlock-ledger-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    m_path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return m_path; }
  fs::path operator/(const char* name) const { return m_path / name; }

 private:
  fs::path m_path;
};

// A second, raw connection to the ledger file, for inspecting and tampering.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(m_db, 5000);
  }
  ~RawDb() { sqlite3_close_v2(m_db); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Returns the sqlite result code; message receives the error text.
  int exec(const char* sql, std::string* message = nullptr) {
    const int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr);
    if (message != nullptr) *message = sqlite3_errmsg(m_db);
    return rc;
  }
  std::string text(const char* sql) { return query_text(m_db, sql); }

  static std::string query_text(sqlite3* db, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* p = sqlite3_column_text(stmt, 0);
      if (p != nullptr) out = reinterpret_cast<const char*>(p);
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* m_db = nullptr;
};

// Captures the connection the Ledger opens (auto extensions run on every
// sqlite3_open), so its per-connection pragmas can be queried. It also turns
// synchronous OFF first (FULL is SQLite's default), so the check below only
// passes if the Ledger itself sets FULL.
sqlite3* g_last_connection = nullptr;
extern "C" int capture_connection(sqlite3* db, char**, const sqlite3_api_routines*) {
  g_last_connection = db;
  return sqlite3_exec(db, "PRAGMA synchronous = OFF", nullptr, nullptr, nullptr);
}

std::string hash_of(char c) { return std::string(64, c); }

VersionRecord make_version(const std::string& deployment, const std::string& version,
                           std::uint64_t sequence, const std::string& bundle_id = "") {
  VersionRecord v;
  v.deployment = deployment;
  v.version = version;
  v.bundle_id = bundle_id.empty() ? deployment + "-" + version + "-bundle" : bundle_id;
  v.sequence = sequence;
  v.created_at = 1'700'000'000 + static_cast<std::int64_t>(sequence);
  v.installed_at = 1'800'000'000 + static_cast<std::int64_t>(sequence);
  v.total_bytes = 1000 * sequence;
  return v;
}

std::vector<FileRecord> make_files() {
  return {FileRecord{"weights/model-00001.safetensors", 123456789, hash_of('a'), 0644},
          FileRecord{"config.json", 42, hash_of('b'), 0600},
          FileRecord{"bin/run.sh", 7, hash_of('c'), 0755}};
}

std::unique_ptr<Ledger> new_ledger(const TempDir& dir) {
  auto ledger = Ledger::create(dir / "ledger.db");
  REQUIRE(ledger.has_value());
  return std::move(*ledger);
}

void put_field(airlock::Bytes& out, std::string_view s) {
  airlock::put_u64le(out, s.size());
  airlock::append(out, airlock::as_bytes(s));
}

std::string sha256_hex(const airlock::Bytes& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) == 1);
  return airlock::to_hex(airlock::ByteSpan(digest, length));
}

// The chain's encodings, written out here independently of ledger.cc.
airlock::Bytes v1_encoding(const EventRecord& e) {
  airlock::Bytes encoded;
  put_field(encoded, e.prev_hash);
  airlock::put_u64le(encoded, 8);
  airlock::put_u64le(encoded, static_cast<std::uint64_t>(e.id));
  airlock::put_u64le(encoded, 8);
  airlock::put_u64le(encoded, static_cast<std::uint64_t>(e.time));
  for (const std::string* f : {&e.user, &e.action, &e.target, &e.result, &e.detail}) put_field(encoded, *f);
  return encoded;
}
std::string v1_hash(const EventRecord& e) { return sha256_hex(v1_encoding(e)); }
std::string v2_hash(const EventRecord& e) {
  airlock::Bytes encoded = v1_encoding(e);
  put_field(encoded, e.installer_version.value());
  put_field(encoded, e.installer_sha256.value());
  return sha256_hex(encoded);
}

}  // namespace

TEST_CASE("create then open round-trips the recorded state", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "ledger.db";
  {
    auto created = Ledger::create(path);
    REQUIRE(created.has_value());
    REQUIRE((*created)->record_version(make_version("llama", "1.0", 3), make_files()).has_value());
    REQUIRE((*created)->set_active("llama", "1.0").has_value());
    REQUIRE((*created)->append_event(100, "root", "install", "llama/1.0", "ok", "").has_value());
  }
  REQUIRE(fs::exists(path));

  auto opened = Ledger::open(path);
  REQUIRE(opened.has_value());
  Ledger& ledger = **opened;
  auto found = ledger.find_version("llama", "1.0");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->bundle_id == "llama-1.0-bundle");
  CHECK((*found)->sequence == 3);
  CHECK((*found)->created_at == 1'700'000'003);
  CHECK((*found)->installed_at == 1'800'000'003);
  CHECK((*found)->total_bytes == 3000);
  CHECK((*found)->state == "installed");
  CHECK(ledger.active_version("llama").value() == std::optional<std::string>("1.0"));
  CHECK(ledger.highest_sequence("llama").value() == 3);
  CHECK(ledger.events().value().size() == 1);
  CHECK(ledger.verify_event_chain().has_value());

  RawDb raw(path);
  CHECK(raw.text("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
  CHECK(raw.text("SELECT value FROM meta WHERE key = 'format'") == "airlock-ledger");
}

TEST_CASE("a schema-1 ledger is upgraded on open and keeps its versions", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "v1.db";
  {
    auto ledger = Ledger::create(path);
    REQUIRE(ledger.has_value());
    REQUIRE((*ledger)->record_version(make_version("llama", "1.0", 1), {}).has_value());
    REQUIRE((*ledger)->set_version_meta("llama", "1.0", {R"([{"kind":"wheels"}])", "null"}).has_value());
  }
  {
    RawDb raw(path);  // what a schema-1 file looks like
    REQUIRE(raw.exec("DROP TABLE version_meta") == SQLITE_OK);
    REQUIRE(raw.exec("DROP TABLE rotations") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE versions DROP COLUMN index_sha256") == SQLITE_OK);
    REQUIRE(raw.exec("DROP TABLE target_entries") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE events DROP COLUMN installer_version") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE events DROP COLUMN installer_sha256") == SQLITE_OK);
    REQUIRE(raw.exec("DROP TABLE chunk_maps") == SQLITE_OK);  // schema 5
    REQUIRE(raw.exec("UPDATE meta SET value = '1' WHERE key = 'schema_version'") == SQLITE_OK);
  }
  auto ledger = Ledger::open(path);
  REQUIRE(ledger.has_value());
  auto meta = (*ledger)->version_meta("llama", "1.0");
  REQUIRE(meta.has_value());
  CHECK(meta->sources == "null");  // installed before schema 2: nothing kept
  CHECK((*ledger)->find_bundle("llama-1.0-bundle").value()->index_sha256.empty());  // and no index hash (schema 3)
  CHECK((*ledger)->pending_rotations()->empty());
  CHECK(meta->activate == "null");
  REQUIRE((*ledger)->set_version_meta("llama", "1.0", {"[]", R"({"run":["true"]})"}).has_value());
  CHECK((*ledger)->version_meta("llama", "1.0")->activate == R"({"run":["true"]})");
  auto bad = (*ledger)->set_version_meta("llama", "1.0", {"[", "null"});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == ErrorCode::kInvalidArgument);
  CHECK_FALSE((*ledger)->set_version_meta("llama", "9.9", {"[]", "null"}).has_value());
  ledger->reset();
  RawDb raw(path);
  CHECK(raw.text("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
}

TEST_CASE("a schema-2 ledger is upgraded to 3: index hashes and rotations, old versions keep no hash", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "v2.db";
  {
    auto ledger = Ledger::create(path);
    REQUIRE(ledger.has_value());
    REQUIRE((*ledger)->record_version(make_version("llama", "1.0", 1), make_files()).has_value());
    REQUIRE((*ledger)->set_version_meta("llama", "1.0", {R"([{"kind":"hf"}])", "null"}).has_value());
  }
  {
    RawDb raw(path);  // what a schema-2 file looks like
    REQUIRE(raw.exec("DROP TABLE rotations") == SQLITE_OK);
    REQUIRE(raw.exec("DROP TABLE target_entries") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE versions DROP COLUMN index_sha256") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE events DROP COLUMN installer_version") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE events DROP COLUMN installer_sha256") == SQLITE_OK);
    REQUIRE(raw.exec("DROP TABLE chunk_maps") == SQLITE_OK);  // schema 5
    REQUIRE(raw.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'") == SQLITE_OK);
  }
  auto ledger = Ledger::open(path);
  REQUIRE(ledger.has_value());
  auto old = (*ledger)->find_bundle("llama-1.0-bundle");
  REQUIRE(old.has_value());
  REQUIRE(old->has_value());
  CHECK((*old)->index_sha256.empty());  // recorded before schema 3: no hash
  CHECK((*ledger)->files("llama", "1.0")->size() == 3);
  CHECK((*ledger)->version_meta("llama", "1.0")->sources == R"([{"kind":"hf"}])");
  CHECK((*ledger)->pending_rotations()->empty());

  VersionRecord v2 = make_version("llama", "2.0", 2);
  v2.index_sha256 = hash_of('d');
  REQUIRE((*ledger)->record_version(v2, {}).has_value());
  CHECK((*ledger)->find_bundle("llama-2.0-bundle").value()->index_sha256 == hash_of('d'));
  VersionRecord bad = make_version("llama", "3.0", 3);
  bad.index_sha256 = "ABC";
  auto refused = (*ledger)->record_version(bad, {});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  ledger->reset();
  RawDb raw(path);
  CHECK(raw.text("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
  CHECK(raw.text("SELECT count(*) FROM versions WHERE index_sha256 IS NULL") == "1");
  // Opening a schema-3 file again changes nothing.
  auto again = Ledger::open(path);
  REQUIRE(again.has_value());
  CHECK((*again)->find_bundle("llama-2.0-bundle").value()->index_sha256 == hash_of('d'));
}

TEST_CASE("a rotation is recorded pending once and settled once", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);
  CHECK(ledger->trust_generation().value() == 0);
  REQUIRE(ledger->append_event(1, "op", "install", "llama/1.0", "ok", "").has_value());
  CHECK(ledger->trust_generation().value() == 0);  // not a trust change
  REQUIRE(ledger->append_event(2, "op", "trust-add", "key/a", "ok", "").has_value());
  CHECK(ledger->trust_generation().value() == 2);
  REQUIRE(ledger->append_event(3, "op", "trust-rotate", "llama/1.0", "refused", "").has_value());
  CHECK(ledger->trust_generation().value() == 2);  // only changes that happened count

  RotationRecord r;
  r.bundle_id = "b1";
  r.index_sha256 = hash_of('e');
  r.target = "llama/1.0";
  r.change = R"({"add":[],"revoke":["0123456789abcdef"]})";
  r.trust_generation = 2;
  r.recorded_at = 100;
  REQUIRE(ledger->record_rotation(r).has_value());
  auto again = ledger->record_rotation(r);
  REQUIRE_FALSE(again.has_value());
  CHECK_THAT(again.error().message(), Catch::Contains("applies once"));
  RotationRecord bad = r;
  bad.bundle_id = "b2";
  bad.change = "{";
  CHECK_FALSE(ledger->record_rotation(bad).has_value());
  bad.change = r.change;
  bad.index_sha256 = "x";
  CHECK_FALSE(ledger->record_rotation(bad).has_value());

  auto pending = ledger->pending_rotations();
  REQUIRE(pending.has_value());
  REQUIRE(pending->size() == 1);
  CHECK((*pending)[0].bundle_id == "b1");
  CHECK((*pending)[0].index_sha256 == hash_of('e'));
  CHECK((*pending)[0].change == r.change);
  CHECK((*pending)[0].trust_generation == 2);
  CHECK((*pending)[0].state == "pending");
  CHECK_FALSE((*pending)[0].settled_at.has_value());

  CHECK_FALSE(ledger->settle_rotation("b1", "pending", "", 5).has_value());
  CHECK_FALSE(ledger->settle_rotation("nope", "applied", "", 5).has_value());
  REQUIRE(ledger->settle_rotation("b1", "applied", "revoked x", 200).has_value());
  auto twice = ledger->settle_rotation("b1", "superseded", "", 300);
  REQUIRE_FALSE(twice.has_value());
  CHECK_THAT(twice.error().message(), Catch::Contains("settled once"));
  CHECK(ledger->pending_rotations()->empty());
  auto found = ledger->find_rotation("b1");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->state == "applied");
  CHECK((*found)->note == "revoked x");
  CHECK((*found)->settled_at == std::optional<std::int64_t>(200));
  CHECK_FALSE(ledger->find_rotation("b2")->has_value());
}

TEST_CASE("a schema-2 ledger is upgraded on open: versions and sources kept, no target entries yet", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "v2.db";
  {
    auto ledger = Ledger::create(path);
    REQUIRE(ledger.has_value());
    REQUIRE((*ledger)->record_version(make_version("llama", "1.0", 1), {}).has_value());
    REQUIRE((*ledger)->set_version_meta("llama", "1.0", {R"([{"kind":"wheels"}])", "null"}).has_value());
  }
  {
    RawDb raw(path);  // what a schema-2 file looks like
    REQUIRE(raw.exec("DROP TABLE target_entries") == SQLITE_OK);
    REQUIRE(raw.exec("DROP TABLE rotations") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE versions DROP COLUMN index_sha256") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE events DROP COLUMN installer_version") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE events DROP COLUMN installer_sha256") == SQLITE_OK);
    REQUIRE(raw.exec("DROP TABLE chunk_maps") == SQLITE_OK);  // schema 5
    REQUIRE(raw.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'") == SQLITE_OK);
  }
  auto ledger = Ledger::open(path);
  REQUIRE(ledger.has_value());
  CHECK((*ledger)->version_meta("llama", "1.0")->sources == R"([{"kind":"wheels"}])");
  CHECK((*ledger)->target_entries().value().empty());
  const std::vector<airlock::installer::TargetEntry> hf = {{"hf", "models--a--b/blobs/" + std::string(64, 'a'), "file", std::string(64, 'a')},
                                       {"hf", "models--a--b/refs/main", "ref", std::string(40, 'c')}};
  REQUIRE((*ledger)->set_target_entries("hf", hf).has_value());
  REQUIRE((*ledger)->set_target_entries("wheels", {{"wheels", "x.whl", "file", std::string(64, 'b')}}).has_value());
  CHECK((*ledger)->target_entries().value().size() == 3);
  // Replacing one target leaves the others; a bad row changes nothing.
  REQUIRE((*ledger)->set_target_entries("hf", {hf[1]}).has_value());
  CHECK((*ledger)->target_entries().value().size() == 2);
  CHECK_FALSE((*ledger)->set_target_entries("hf", {hf[0], {"hf", "/abs", "file", "x"}}).has_value());
  CHECK_FALSE((*ledger)->set_target_entries("hf", {{"wheels", "y.whl", "file", "x"}}).has_value());
  CHECK_FALSE((*ledger)->set_target_entries("hf", {{"hf", "z", "socket", "x"}}).has_value());
  CHECK((*ledger)->target_entries().value() == std::vector<airlock::installer::TargetEntry>{hf[1], {"wheels", "x.whl", "file", std::string(64, 'b')}});
  ledger->reset();
  RawDb raw(path);
  CHECK(raw.text("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
}

TEST_CASE("create refuses an existing file and leaves it alone", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "ledger.db";
  { std::ofstream(path) << "precious"; }
  auto created = Ledger::create(path);
  REQUIRE_FALSE(created.has_value());
  CHECK(created.error().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(created.error().message(), Catch::Contains(path.string()));
  std::ifstream in(path);
  std::string content;
  in >> content;
  CHECK(content == "precious");

  // An existing ledger is refused too.
  const fs::path real = dir / "real.db";
  REQUIRE(Ledger::create(real).has_value());
  auto again = Ledger::create(real);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("create in a missing directory fails and creates nothing", "[ledger]") {
  TempDir dir;
  const fs::path path = dir.path() / "no" / "such" / "ledger.db";
  auto created = Ledger::create(path);
  REQUIRE_FALSE(created.has_value());
  CHECK(created.error().code() == ErrorCode::kNotFound);
  CHECK_FALSE(fs::exists(dir.path() / "no"));
}

TEST_CASE("open of a missing path is kNotFound naming the path", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "missing.db";
  auto opened = Ledger::open(path);
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().code() == ErrorCode::kNotFound);
  CHECK_THAT(opened.error().message(), Catch::Contains(path.string()));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("open refuses files that are not ledgers", "[ledger]") {
  TempDir dir;

  SECTION("not an SQLite file") {
    const fs::path path = dir / "junk.db";
    {
      std::ofstream out(path, std::ios::binary);
      for (int i = 0; i < 200; ++i) out << "this is not an sqlite database, just text. ";
    }
    const auto size_before = fs::file_size(path);
    auto opened = Ledger::open(path);
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(opened.error().message(), Catch::Contains(path.string()));
    CHECK_THAT(opened.error().message(), Catch::Contains("not an airlock ledger"));
    CHECK(fs::file_size(path) == size_before);
  }

  SECTION("an SQLite database of something else") {
    const fs::path path = dir / "other.db";
    {
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
      REQUIRE(sqlite3_exec(db, "CREATE TABLE t (x INTEGER)", nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(db);
    }
    auto opened = Ledger::open(path);
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(opened.error().message(), Catch::Contains(path.string()));
    // Not switched to WAL: the foreign file is left as it was.
    RawDb raw(path);
    CHECK(raw.text("PRAGMA journal_mode") == "delete");
  }

  SECTION("a ledger with an unknown schema version") {
    const fs::path path = dir / "future.db";
    REQUIRE(Ledger::create(path).has_value());
    {
      RawDb raw(path);
      REQUIRE(raw.exec("UPDATE meta SET value = '6' WHERE key = 'schema_version'") == SQLITE_OK);
    }
    auto opened = Ledger::open(path);
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().code() == ErrorCode::kUnsupported);
    CHECK_THAT(opened.error().message(), Catch::Contains(path.string()));
    CHECK_THAT(opened.error().message(), Catch::Contains("schema version '6'"));
  }

  SECTION("a directory") {
    auto opened = Ledger::open(dir.path());
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().code() != ErrorCode::kNotFound);
  }
}

TEST_CASE("record, find, versions and files", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);

  CHECK_FALSE(ledger->find_version("llama", "1.0").value().has_value());
  CHECK_FALSE(ledger->find_bundle("llama-1.0-bundle").value().has_value());
  CHECK(ledger->versions("llama").value().empty());

  REQUIRE(ledger->record_version(make_version("llama", "2.0", 5), make_files()).has_value());
  REQUIRE(ledger->record_version(make_version("llama", "1.0", 6), {}).has_value());
  REQUIRE(ledger->record_version(make_version("mistral", "0.1", 1), {}).has_value());

  auto by_bundle = ledger->find_bundle("llama-2.0-bundle");
  REQUIRE(by_bundle.has_value());
  REQUIRE(by_bundle->has_value());
  CHECK((*by_bundle)->deployment == "llama");
  CHECK((*by_bundle)->version == "2.0");
  CHECK((*by_bundle)->sequence == 5);

  // Install order, not name order.
  auto versions = ledger->versions("llama");
  REQUIRE(versions.has_value());
  REQUIRE(versions->size() == 2);
  CHECK((*versions)[0].version == "2.0");
  CHECK((*versions)[1].version == "1.0");
  CHECK(ledger->versions("mistral").value().size() == 1);

  auto files = ledger->files("llama", "2.0");
  REQUIRE(files.has_value());
  REQUIRE(files->size() == 3);
  // Sorted by path.
  CHECK((*files)[0].path == "bin/run.sh");
  CHECK((*files)[0].mode == 0755);
  CHECK((*files)[0].size == 7);
  CHECK((*files)[1].path == "config.json");
  CHECK((*files)[1].sha256 == hash_of('b'));
  CHECK((*files)[1].mode == 0600);
  CHECK((*files)[2].path == "weights/model-00001.safetensors");
  CHECK((*files)[2].size == 123456789);
  CHECK(ledger->files("llama", "1.0").value().empty());

  auto missing = ledger->files("llama", "9.9");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == ErrorCode::kNotFound);

  auto deployments = ledger->deployments();
  REQUIRE(deployments.has_value());
  REQUIRE(deployments->size() == 2);
  CHECK((*deployments)[0].name == "llama");
  CHECK((*deployments)[0].highest_sequence == 6);
  CHECK_FALSE((*deployments)[0].active_version.has_value());
  CHECK((*deployments)[1].name == "mistral");

  // Recording an installed version again is refused.
  auto again = ledger->record_version(make_version("llama", "2.0", 7, "another-bundle"), {});
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code() == ErrorCode::kInvalidArgument);
  CHECK_FALSE(ledger->find_bundle("another-bundle").value().has_value());
  CHECK(ledger->highest_sequence("llama").value() == 6);
}

TEST_CASE("record_version validates its input", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);
  auto bad_hash = make_files();
  bad_hash[1].sha256 = "ABC";
  auto r1 = ledger->record_version(make_version("llama", "1.0", 1), bad_hash);
  REQUIRE_FALSE(r1.has_value());
  CHECK(r1.error().code() == ErrorCode::kInvalidArgument);

  auto twice = make_files();
  twice.push_back(twice[0]);
  auto r2 = ledger->record_version(make_version("llama", "1.0", 1), twice);
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().code() == ErrorCode::kInvalidArgument);

  auto r3 = ledger->record_version(make_version("llama", "1.0", std::uint64_t{1} << 63), {});
  REQUIRE_FALSE(r3.has_value());
  CHECK(r3.error().code() == ErrorCode::kInvalidArgument);

  CHECK(ledger->deployments().value().empty());
}

TEST_CASE("a duplicate bundle id is refused", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);
  REQUIRE(ledger->record_version(make_version("llama", "1.0", 1, "bundle-x"), make_files()).has_value());
  auto dup = ledger->record_version(make_version("llama", "2.0", 2, "bundle-x"), make_files());
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(dup.error().message(), Catch::Contains("bundle-x"));
  CHECK_FALSE(ledger->find_version("llama", "2.0").value().has_value());
  CHECK(ledger->highest_sequence("llama").value() == 1);
  auto other = ledger->record_version(make_version("mistral", "1.0", 9, "bundle-x"), {});
  REQUIRE_FALSE(other.has_value());
  CHECK(ledger->deployments().value().size() == 1);
}

TEST_CASE("highest_sequence grows and never shrinks", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);
  CHECK(ledger->highest_sequence("llama").value() == 0);
  REQUIRE(ledger->record_version(make_version("llama", "1.0", 5), {}).has_value());
  CHECK(ledger->highest_sequence("llama").value() == 5);
  REQUIRE(ledger->record_version(make_version("llama", "0.9", 3), {}).has_value());
  CHECK(ledger->highest_sequence("llama").value() == 5);
  REQUIRE(ledger->record_version(make_version("llama", "2.0", 9), {}).has_value());
  CHECK(ledger->highest_sequence("llama").value() == 9);
  // Forgetting the newest version does not lower the anti-replay counter.
  REQUIRE(ledger->forget_version("llama", "2.0").has_value());
  CHECK_FALSE(ledger->find_version("llama", "2.0").value().has_value());
  CHECK(ledger->highest_sequence("llama").value() == 9);
  // Other deployments are independent.
  CHECK(ledger->highest_sequence("mistral").value() == 0);
}

TEST_CASE("set_active and active_version", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);
  CHECK_FALSE(ledger->active_version("llama").value().has_value());
  REQUIRE(ledger->record_version(make_version("llama", "1.0", 1), {}).has_value());
  REQUIRE(ledger->record_version(make_version("llama", "2.0", 2), {}).has_value());
  CHECK_FALSE(ledger->active_version("llama").value().has_value());

  REQUIRE(ledger->set_active("llama", "2.0").has_value());
  CHECK(ledger->active_version("llama").value() == std::optional<std::string>("2.0"));
  REQUIRE(ledger->set_active("llama", "1.0").has_value());
  CHECK(ledger->active_version("llama").value() == std::optional<std::string>("1.0"));
  CHECK(ledger->deployments().value().at(0).active_version == std::optional<std::string>("1.0"));

  auto unknown = ledger->set_active("llama", "3.0");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code() == ErrorCode::kNotFound);
  auto unknown_dep = ledger->set_active("mistral", "1.0");
  REQUIRE_FALSE(unknown_dep.has_value());
  CHECK(unknown_dep.error().code() == ErrorCode::kNotFound);
  CHECK(ledger->active_version("llama").value() == std::optional<std::string>("1.0"));

  // The active version cannot be removed; a removed one cannot be activated.
  auto remove_active = ledger->mark_removed("llama", "1.0");
  REQUIRE_FALSE(remove_active.has_value());
  CHECK(remove_active.error().code() == ErrorCode::kInvalidArgument);
  REQUIRE(ledger->mark_removed("llama", "2.0").has_value());
  auto activate_removed = ledger->set_active("llama", "2.0");
  REQUIRE_FALSE(activate_removed.has_value());
  CHECK(activate_removed.error().code() == ErrorCode::kInvalidArgument);
  CHECK(ledger->active_version("llama").value() == std::optional<std::string>("1.0"));

  // Forgetting the active version (an undone install) clears it.
  REQUIRE(ledger->forget_version("llama", "1.0").has_value());
  CHECK_FALSE(ledger->active_version("llama").value().has_value());
}

TEST_CASE("mark_removed then record the same version again", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);
  REQUIRE(ledger->record_version(make_version("llama", "1.0", 1, "b1"), make_files()).has_value());
  REQUIRE(ledger->record_version(make_version("llama", "2.0", 2, "b2"), {}).has_value());
  REQUIRE(ledger->mark_removed("llama", "1.0").has_value());
  CHECK(ledger->find_version("llama", "1.0").value()->state == "removed");
  // Removed versions are still listed.
  CHECK(ledger->versions("llama").value().size() == 2);

  auto missing = ledger->mark_removed("llama", "7.0");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == ErrorCode::kNotFound);

  // Re-recording replaces the removed row and its files, and counts as the
  // newest install.
  std::vector<FileRecord> new_files{FileRecord{"only.bin", 1, hash_of('d'), 0644}};
  REQUIRE(ledger->record_version(make_version("llama", "1.0", 3, "b1"), new_files).has_value());
  auto found = ledger->find_version("llama", "1.0").value();
  REQUIRE(found.has_value());
  CHECK(found->state == "installed");
  CHECK(found->sequence == 3);
  auto files = ledger->files("llama", "1.0").value();
  REQUIRE(files.size() == 1);
  CHECK(files[0].path == "only.bin");
  auto versions = ledger->versions("llama").value();
  REQUIRE(versions.size() == 2);
  CHECK(versions[0].version == "2.0");
  CHECK(versions[1].version == "1.0");
  CHECK(ledger->highest_sequence("llama").value() == 3);
}

TEST_CASE("with_transaction commits on success and rolls back on failure", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);

  Status failed = ledger->with_transaction([&]() -> Status {
    auto r = ledger->record_version(make_version("llama", "1.0", 4), make_files());
    REQUIRE(r.has_value());
    REQUIRE(ledger->set_active("llama", "1.0").has_value());
    REQUIRE(ledger->append_event(1, "root", "install", "llama/1.0", "ok", "").has_value());
    // Visible inside the transaction.
    REQUIRE(ledger->find_version("llama", "1.0").value().has_value());
    return airlock::make_error(ErrorCode::kInterrupted, "stop here");
  });
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().code() == ErrorCode::kInterrupted);
  CHECK(failed.error().message() == "stop here");
  CHECK_FALSE(ledger->find_version("llama", "1.0").value().has_value());
  CHECK(ledger->highest_sequence("llama").value() == 0);
  CHECK(ledger->deployments().value().empty());
  CHECK(ledger->events().value().empty());

  // An inner failure (refused record) inside a transaction that goes on.
  Status good = ledger->with_transaction([&]() -> Status {
    TRY(ledger->record_version(make_version("llama", "1.0", 4), {}));
    auto dup = ledger->record_version(make_version("llama", "1.0", 5), {});
    REQUIRE_FALSE(dup.has_value());
    TRY(ledger->with_transaction([&]() -> Status {  // nested
      return ledger->record_version(make_version("llama", "2.0", 6), {});
    }));
    auto e = ledger->append_event(2, "root", "install", "llama/2.0", "ok", "");
    if (!e) return std::unexpected(e.error());
    return airlock::ok_status();
  });
  REQUIRE(good.has_value());
  CHECK(ledger->versions("llama").value().size() == 2);
  CHECK(ledger->highest_sequence("llama").value() == 6);
  CHECK(ledger->events().value().size() == 1);
  CHECK(ledger->verify_event_chain().has_value());

  // A failing nested transaction undoes only its own work.
  Status outer = ledger->with_transaction([&]() -> Status {
    TRY(ledger->record_version(make_version("llama", "3.0", 7), {}));
    Status inner = ledger->with_transaction([&]() -> Status {
      TRY(ledger->record_version(make_version("llama", "4.0", 8), {}));
      return airlock::make_error(ErrorCode::kIOError, "inner failure");
    });
    REQUIRE_FALSE(inner.has_value());
    return airlock::ok_status();
  });
  REQUIRE(outer.has_value());
  CHECK(ledger->find_version("llama", "3.0").value().has_value());
  CHECK_FALSE(ledger->find_version("llama", "4.0").value().has_value());
  CHECK(ledger->highest_sequence("llama").value() == 7);
}

TEST_CASE("events append, chain and verify", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "ledger.db";
  {
    auto ledger = Ledger::create(path).value();
    CHECK(ledger->verify_event_chain().has_value());  // empty chain
    auto e1 = ledger->append_event(1000, "root", "install", "llama/1.0", "ok", "3 files");
    REQUIRE(e1.has_value());
    CHECK(e1->id == 1);
    CHECK(e1->prev_hash == std::string(64, '0'));
    CHECK(e1->hash.size() == 64);

    // Pin the documented encoding (version 2, schema 4): SHA-256 over u64-LE
    // length + bytes of prev_hash, id, time, user, action, target, result,
    // detail, installer_version, installer_sha256.
    REQUIRE(e1->installer_version.has_value());
    REQUIRE(e1->installer_sha256.has_value());
    CHECK(e1->hash == v2_hash(*e1));
    CHECK(e1->hash != v1_hash(*e1));

    auto e2 = ledger->append_event(1001, "alice", "activate", "llama/1.0", "ok", "");
    REQUIRE(e2.has_value());
    auto e3 = ledger->append_event(1002, "bob", "trust-add", "keys", "refused", "unknown key");
    REQUIRE(e3.has_value());
    CHECK(e2->id == 2);
    CHECK(e2->prev_hash == e1->hash);
    CHECK(e3->prev_hash == e2->hash);
    CHECK(e3->hash != e2->hash);
    CHECK(ledger->verify_event_chain().has_value());

    auto all = ledger->events();
    REQUIRE(all.has_value());
    REQUIRE(all->size() == 3);
    CHECK((*all)[0].hash == e1->hash);
    CHECK((*all)[1].user == "alice");
    CHECK((*all)[2].detail == "unknown key");
    CHECK((*all)[2].result == "refused");
    CHECK((*all)[2].time == 1002);
  }
  // The chain continues across reopen.
  auto ledger = Ledger::open(path).value();
  auto e4 = ledger->append_event(1003, "root", "gc", "llama/0.9", "ok", "");
  REQUIRE(e4.has_value());
  CHECK(e4->id == 4);
  CHECK(e4->prev_hash == ledger->events().value().at(2).hash);
  CHECK(ledger->verify_event_chain().has_value());
}

TEST_CASE("events filter by target prefix without wildcards", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);
  for (const char* target : {"llama", "llama/1.0", "llama2/1.0", "llamas", "l_ama/1.0", "llam%/x",
                             "llama/1.0/extra", "mistral/llama"}) {
    REQUIRE(ledger->append_event(1, "root", "install", target, "ok", "").has_value());
  }
  auto targets = [&](const std::optional<std::string>& prefix) {
    std::vector<std::string> out;
    auto events = ledger->events(prefix);
    REQUIRE(events.has_value());
    for (const EventRecord& e : *events) out.push_back(e.target);
    return out;
  };
  CHECK(targets(std::nullopt).size() == 8);
  CHECK(targets("llama") == std::vector<std::string>{"llama", "llama/1.0", "llama/1.0/extra"});
  CHECK(targets("llama/1.0") == std::vector<std::string>{"llama/1.0", "llama/1.0/extra"});
  CHECK(targets("l_ama") == std::vector<std::string>{"l_ama/1.0"});
  CHECK(targets("llam%") == std::vector<std::string>{"llam%/x"});
  CHECK(targets("llam").empty());
  CHECK(targets("nothing").empty());
}

TEST_CASE("verify_event_chain detects tampering", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "ledger.db";
  auto ledger = Ledger::create(path).value();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(ledger->append_event(i, "root", "install", "llama/" + std::to_string(i), "ok", "").has_value());
  }
  REQUIRE(ledger->verify_event_chain().has_value());

  SECTION("an edited field") {
    RawDb raw(path);
    REQUIRE(raw.exec("DROP TRIGGER events_no_update") == SQLITE_OK);
    REQUIRE(raw.exec("UPDATE events SET result = 'failed' WHERE id = 2") == SQLITE_OK);
    auto verified = ledger->verify_event_chain();
    REQUIRE_FALSE(verified.has_value());
    CHECK(verified.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(verified.error().message(), Catch::Contains("event 2"));
  }
  SECTION("an edited hash breaks the link to the next event") {
    RawDb raw(path);
    REQUIRE(raw.exec("DROP TRIGGER events_no_update") == SQLITE_OK);
    REQUIRE(raw.exec("UPDATE events SET hash = replace(hash, substr(hash, 1, 1), 'x') WHERE id = 3") ==
            SQLITE_OK);
    auto verified = ledger->verify_event_chain();
    REQUIRE_FALSE(verified.has_value());
    CHECK(verified.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(verified.error().message(), Catch::Contains("event 3"));
  }
  SECTION("a deleted event") {
    RawDb raw(path);
    REQUIRE(raw.exec("DROP TRIGGER events_no_delete") == SQLITE_OK);
    REQUIRE(raw.exec("DELETE FROM events WHERE id = 2") == SQLITE_OK);
    auto verified = ledger->verify_event_chain();
    REQUIRE_FALSE(verified.has_value());
    CHECK(verified.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(verified.error().message(), Catch::Contains("event 3"));
  }
  SECTION("a bad first prev_hash") {
    RawDb raw(path);
    REQUIRE(raw.exec("DROP TRIGGER events_no_update") == SQLITE_OK);
    REQUIRE(raw.exec("UPDATE events SET prev_hash = replace(prev_hash, '0', '1') WHERE id = 1") ==
            SQLITE_OK);
    auto verified = ledger->verify_event_chain();
    REQUIRE_FALSE(verified.has_value());
    CHECK_THAT(verified.error().message(), Catch::Contains("event 1"));
  }
}

TEST_CASE("triggers make the event table append-only", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "ledger.db";
  auto ledger = Ledger::create(path).value();
  REQUIRE(ledger->append_event(1, "root", "install", "llama/1.0", "ok", "").has_value());
  RawDb raw(path);
  std::string message;
  CHECK(raw.exec("UPDATE events SET detail = 'x' WHERE id = 1", &message) != SQLITE_OK);
  CHECK_THAT(message, Catch::Contains("append-only"));
  CHECK(raw.exec("DELETE FROM events", &message) != SQLITE_OK);
  CHECK_THAT(message, Catch::Contains("append-only"));
  CHECK(raw.text("SELECT count(*) FROM events") == "1");
  CHECK(raw.text("SELECT detail FROM events WHERE id = 1").empty());
  CHECK(ledger->verify_event_chain().has_value());
}

TEST_CASE("WAL, synchronous=FULL, foreign keys and busy_timeout are in effect", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "ledger.db";
  REQUIRE(sqlite3_auto_extension(reinterpret_cast<void (*)()>(capture_connection)) == SQLITE_OK);
  g_last_connection = nullptr;

  auto check_connection = [&](sqlite3* db) {
    REQUIRE(db != nullptr);
    CHECK(RawDb::query_text(db, "PRAGMA journal_mode") == "wal");
    CHECK(RawDb::query_text(db, "PRAGMA synchronous") == "2");  // FULL, not the OFF set above
    CHECK(RawDb::query_text(db, "PRAGMA foreign_keys") == "1");
    CHECK(RawDb::query_text(db, "PRAGMA busy_timeout") == "5000");
  };
  {
    auto created = Ledger::create(path);
    REQUIRE(created.has_value());
    check_connection(g_last_connection);
  }
  g_last_connection = nullptr;
  {
    auto opened = Ledger::open(path);
    REQUIRE(opened.has_value());
    check_connection(g_last_connection);
  }
  sqlite3_cancel_auto_extension(reinterpret_cast<void (*)()>(capture_connection));
  g_last_connection = nullptr;

  // WAL is persistent: a plain connection sees it too.
  RawDb raw(path);
  CHECK(raw.text("PRAGMA journal_mode") == "wal");
}

TEST_CASE("append_event stores control bytes from unverified input escaped, the chain verifies", "[ledger]") {
  TempDir dir;
  auto ledger = new_ledger(dir);
  const std::string forged = "x\x1b[2K\rinstalled llama 9.9\n\xc2\x9b" "31m\xff";
  auto e = ledger->append_event(1, "root", "install", "llama/1.0" + forged, "refused", "untrusted signer " + forged);
  REQUIRE(e.has_value());
  auto events = ledger->events();
  REQUIRE(events.has_value());
  REQUIRE(events->size() == 1);
  for (const std::string& field : {(*events)[0].target, (*events)[0].detail}) {
    INFO(field);
    for (char c : field) {
      const auto b = static_cast<unsigned char>(c);
      CHECK((b >= 0x20 && b != 0x7f));
    }
    CHECK(field.find("\\x1b[2K\\x0dinstalled llama 9.9\\x0a\\xc2\\x9b31m\\xff") != std::string::npos);
  }
  CHECK((*events)[0].detail == e->detail);
  CHECK(ledger->verify_event_chain().has_value());
}

namespace {

// Appends an event the way a schema-3 installer did: no installer fields,
// hashed with the version-1 formula.
void insert_v1_event(RawDb& raw, std::int64_t id, const std::string& prev, std::int64_t time,
                     const std::string& action, EventRecord* out = nullptr) {
  EventRecord e;
  e.id = id;
  e.time = time;
  e.user = "root";
  e.action = action;
  e.target = "llama/1.0";
  e.result = "ok";
  e.detail = "";
  e.prev_hash = prev;
  e.hash = v1_hash(e);
  const std::string sql = fmt::format(
      "INSERT INTO events (id, time, user, action, target, result, detail, prev_hash, hash) VALUES "
      "({}, {}, 'root', '{}', 'llama/1.0', 'ok', '', '{}', '{}')",
      id, time, action, prev, e.hash);
  REQUIRE(raw.exec(sql.c_str()) == SQLITE_OK);
  if (out != nullptr) *out = e;
}

std::string file_sha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return sha256_hex(airlock::Bytes(bytes.begin(), bytes.end()));
}

// The version project() declares in CMakeLists.txt.
std::string project_version() {
  std::ifstream in(fs::path(AIRLOCK_SOURCE_DIR) / "CMakeLists.txt");
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find("project(airlock VERSION ");
    if (at != std::string::npos) {
      std::string rest = line.substr(at + 24);
      return rest.substr(0, rest.find(' '));
    }
  }
  FAIL("no project(airlock VERSION ...) in CMakeLists.txt");
  return {};
}

}  // namespace

TEST_CASE("a schema-3 ledger is upgraded to 4: old events keep their hashes, new ones record the installer",
          "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "v3.db";
  std::string last_hash;
  {
    REQUIRE(Ledger::create(path).has_value());
    RawDb raw(path);  // what a schema-3 file looks like, with two events a schema-3 installer wrote
    REQUIRE(raw.exec("ALTER TABLE events DROP COLUMN installer_version") == SQLITE_OK);
    REQUIRE(raw.exec("ALTER TABLE events DROP COLUMN installer_sha256") == SQLITE_OK);
    REQUIRE(raw.exec("DROP TABLE chunk_maps") == SQLITE_OK);  // schema 5
    REQUIRE(raw.exec("UPDATE meta SET value = '3' WHERE key = 'schema_version'") == SQLITE_OK);
    EventRecord e1, e2;
    insert_v1_event(raw, 1, std::string(64, '0'), 100, "init", &e1);
    insert_v1_event(raw, 2, e1.hash, 101, "install", &e2);
    last_hash = e2.hash;
  }
  auto ledger = Ledger::open(path).value();
  REQUIRE(ledger->verify_event_chain().has_value());
  auto old_events = ledger->events().value();
  REQUIRE(old_events.size() == 2);
  CHECK_FALSE(old_events[0].installer_version.has_value());
  CHECK_FALSE(old_events[1].installer_sha256.has_value());
  CHECK(old_events[1].hash == last_hash);

  auto e3 = ledger->append_event(102, "root", "activate", "llama/1.0", "ok", "");
  REQUIRE(e3.has_value());
  CHECK(e3->prev_hash == last_hash);
  CHECK(e3->installer_version == project_version());
  // The running executable: this test binary here, the installer in e2e.
  CHECK(e3->installer_sha256 == file_sha256("/proc/self/exe"));
  CHECK(e3->hash == v2_hash(*e3));
  auto stored = ledger->events().value().at(2);
  CHECK(stored.installer_version == e3->installer_version);
  CHECK(stored.installer_sha256 == e3->installer_sha256);
  REQUIRE(ledger->append_event(103, "root", "check", "site", "ok", "").has_value());
  REQUIRE(ledger->verify_event_chain().has_value());
  {
    RawDb raw(path);
    CHECK(raw.text("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
    CHECK(raw.text("SELECT count(*) FROM events WHERE installer_sha256 IS NULL") == "2");
  }

  RawDb raw(path);
  REQUIRE(raw.exec("DROP TRIGGER events_no_update") == SQLITE_OK);
  auto broken_at = [&](const char* event) {
    auto verified = ledger->verify_event_chain();
    REQUIRE_FALSE(verified.has_value());
    CHECK(verified.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(verified.error().message(), Catch::Contains(std::string("event ") + event));
  };
  SECTION("another binary's hash written over the recorded one") {
    REQUIRE(raw.exec(("UPDATE events SET installer_sha256 = '" + hash_of('e') + "' WHERE id = 3").c_str()) ==
            SQLITE_OK);
    broken_at("3");
  }
  SECTION("another version") {
    REQUIRE(raw.exec("UPDATE events SET installer_version = '9.9.9' WHERE id = 4") == SQLITE_OK);
    broken_at("4");
  }
  SECTION("the installer fields cleared, so the old formula would apply") {
    REQUIRE(raw.exec("UPDATE events SET installer_version = NULL, installer_sha256 = NULL WHERE id = 4") ==
            SQLITE_OK);
    broken_at("4");
  }
  SECTION("only one of the two fields") {
    REQUIRE(raw.exec("UPDATE events SET installer_sha256 = NULL WHERE id = 3") == SQLITE_OK);
    broken_at("3");
  }
  SECTION("installer fields added to an old event") {
    REQUIRE(raw.exec("UPDATE events SET installer_version = '0.1.0', installer_sha256 = 'x' WHERE id = 2") ==
            SQLITE_OK);
    broken_at("2");
  }
}

TEST_CASE("an event without the installer identity after one with it breaks the chain", "[ledger]") {
  TempDir dir;
  const fs::path path = dir / "ledger.db";
  auto ledger = Ledger::create(path).value();
  auto e1 = ledger->append_event(1, "root", "init", "site", "ok", "");
  REQUIRE(e1.has_value());
  REQUIRE(ledger->verify_event_chain().has_value());
  {
    // Well hashed by the old formula, but no schema-4 installer writes it.
    RawDb raw(path);
    insert_v1_event(raw, 2, e1->hash, 2, "install");
  }
  auto verified = ledger->verify_event_chain();
  REQUIRE_FALSE(verified.has_value());
  CHECK_THAT(verified.error().message(), Catch::Contains("event 2") && Catch::Contains("since event 1"));
}
