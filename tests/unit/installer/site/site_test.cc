#include "installer/site/site.h"

#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include "installer/site/os.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace airlock::installer {
namespace {

namespace stdfs = std::filesystem;

TEST_CASE("site: resolve_root takes --root, else $AIRLOCK_ROOT, else /var/lib/airlock", "[site]") {
  ::setenv("AIRLOCK_ROOT", "/srv/env-root", 1);
  CHECK(resolve_root("/opt/given") == "/opt/given");
  CHECK(resolve_root("") == "/srv/env-root");
  ::setenv("AIRLOCK_ROOT", "", 1);
  CHECK(resolve_root("") == "/var/lib/airlock");
  ::unsetenv("AIRLOCK_ROOT");
  CHECK(resolve_root("") == "/var/lib/airlock");
}

TEST_CASE("site: open of a root never initialised says how to make one", "[site]") {
  test::TempDir dir;
  SystemOs system;
  auto site = Site::open(dir.path() / "root", system.os());
  REQUIRE_FALSE(site.has_value());
  CHECK(site.error().code() == ErrorCode::kNotFound);
  CHECK_THAT(site.error().message(), Catch::Contains("init"));
  CHECK_FALSE(stdfs::exists(dir.path() / "root" / "ledger.db"));  // open never creates one
}

TEST_CASE("site: init makes the layout and the site key, once", "[site]") {
  test::TempDir dir;
  SystemOs system;
  const stdfs::path root = dir.path() / "root";
  {
    auto site = Site::init(root, system.os());
    REQUIRE(site.has_value());
    CHECK((*site)->root() == root);
    CHECK(stdfs::is_directory((*site)->staging_dir()));
    CHECK(stdfs::is_directory((*site)->deployments_dir()));
    CHECK(stdfs::is_regular_file((*site)->keys_dir() / "site.pub"));
    CHECK(stdfs::is_regular_file((*site)->keys_dir() / "site.key"));
    CHECK((*site)->version_dir("llm", "2") == root / "deployments" / "llm" / "2");
    auto key = (*site)->site_key();
    REQUIRE(key.has_value());
    CHECK(key->keyid.size() == 16);
  }
  auto again = Site::init(root, system.os());
  REQUIRE_FALSE(again.has_value());
  auto reopened = Site::open(root, system.os());
  REQUIRE(reopened.has_value());
}

TEST_CASE("site: one command at a time holds the lock", "[site]") {
  test::TempDir dir;
  SystemOs system;
  const stdfs::path root = dir.path() / "root";
  auto first = Site::init(root, system.os());
  REQUIRE(first.has_value());
  REQUIRE((*first)->lock_exclusive().has_value());
  auto second = Site::open(root, system.os());
  REQUIRE(second.has_value());
  auto locked = (*second)->lock_exclusive();
  REQUIRE_FALSE(locked.has_value());
  CHECK(locked.error().code() == ErrorCode::kIOError);
  CHECK_THAT(locked.error().message(), Catch::Contains(root.string()));
  first->reset();  // the lock goes with the Site
  CHECK((*second)->lock_exclusive().has_value());
}

TEST_CASE("site: events carry the site clock's time and the user", "[site]") {
  test::TempDir dir;
  SystemOs system;
  test::FakeClock clock(1'900'000'000);
  auto site = Site::init(dir.path() / "root", Os{clock, system.files, system.processes});
  REQUIRE(site.has_value());
  REQUIRE((*site)->log("test", "llm/2", "ok", "from the unit test").has_value());
  auto events = (*site)->ledger().events(std::nullopt);
  REQUIRE(events.has_value());
  REQUIRE_FALSE(events->empty());
  const EventRecord& e = events->back();
  CHECK(e.time == 1'900'000'000);
  CHECK(e.action == "test");
  CHECK(e.target == "llm/2");
  CHECK(e.user == current_user());
  CHECK_FALSE(current_user().empty());
}

TEST_CASE("site: switch_current points current at a version, clear_current removes it", "[site]") {
  test::TempDir dir;
  SystemOs system;
  auto site = Site::init(dir.path() / "root", system.os());
  REQUIRE(site.has_value());
  stdfs::create_directories((*site)->version_dir("llm", "1"));
  stdfs::create_directories((*site)->version_dir("llm", "2"));
  const stdfs::path current = (*site)->deployment_dir("llm") / "current";
  REQUIRE((*site)->switch_current("llm", "1").has_value());
  CHECK(stdfs::read_symlink(current) == "1");
  REQUIRE((*site)->switch_current("llm", "2").has_value());
  CHECK(stdfs::read_symlink(current) == "2");  // replaced, not added beside
  REQUIRE((*site)->clear_current("llm").has_value());
  CHECK_FALSE(stdfs::exists(stdfs::symlink_status(current)));
  CHECK(stdfs::is_directory((*site)->version_dir("llm", "2")));  // versions stay
}

TEST_CASE("site: init makes the site signing key, and an older root gets one on first use only once", "[site]") {
  test::TempDir dir;
  SystemOs system;
  const stdfs::path root = dir.path() / "root";
  auto site = Site::init(root, system.os());
  REQUIRE(site.has_value());
  const stdfs::path key = (*site)->site_signing_key_path();
  const stdfs::path pub = (*site)->site_signing_pub_path();
  CHECK(key == root / "keys" / "site-signing.key");
  CHECK(stdfs::is_regular_file(key));
  CHECK(stdfs::is_regular_file(pub));
  CHECK((stdfs::status(key).permissions() & stdfs::perms::mask) == (stdfs::perms::owner_read | stdfs::perms::owner_write));
  bool created = true;
  auto first = (*site)->site_signing_key(&created);
  REQUIRE(first.has_value());
  CHECK_FALSE(created);
  CHECK(first->keyid.size() == 16);

  // A root from before site signing keys: made on first use, then kept.
  stdfs::remove(key);
  stdfs::remove(pub);
  auto made = (*site)->site_signing_key(&created);
  REQUIRE(made.has_value());
  CHECK(created);
  CHECK(made->keyid != first->keyid);
  auto again = (*site)->site_signing_key(&created);
  REQUIRE(again.has_value());
  CHECK_FALSE(created);
  CHECK(again->keyid == made->keyid);
  auto events = (*site)->ledger().events(std::nullopt);
  REQUIRE(events.has_value());
  CHECK(std::count_if(events->begin(), events->end(),
                      [](const EventRecord& e) { return e.action == "site-signing-key"; }) == 1);
}

TEST_CASE("site: a damaged or half-missing site signing key is an error naming the file, never replaced", "[site]") {
  test::TempDir dir;
  SystemOs system;
  auto site = Site::init(dir.path() / "root", system.os());
  REQUIRE(site.has_value());
  const stdfs::path key = (*site)->site_signing_key_path();
  const stdfs::path pub = (*site)->site_signing_pub_path();

  SECTION("damaged .key") {
    std::ofstream(key, std::ios::trunc) << "airlock-ed25519-secret-v1 AAAA\n";
    auto r = (*site)->site_signing_key();
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::Contains(key.string()));
  }
  SECTION(".pub missing") {
    stdfs::remove(pub);
    auto r = (*site)->site_signing_key();
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::Contains(pub.string()) && Catch::Contains("missing"));
    CHECK_FALSE(stdfs::exists(pub));  // not made again
  }
  SECTION(".pub of another key") {
    test::TempDir other_dir;
    auto other = Site::init(other_dir.path() / "root", system.os());
    REQUIRE(other.has_value());
    stdfs::copy_file((*other)->site_signing_pub_path(), pub, stdfs::copy_options::overwrite_existing);
    auto r = (*site)->site_signing_key();
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::Contains(pub.string()) && Catch::Contains("not the public half"));
  }
  SECTION("a readable .key is refused when the root is opened") {
    stdfs::permissions(key, stdfs::perms::group_read, stdfs::perm_options::add);
    auto r = Site::open((*site)->root(), system.os());
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::Contains("site-signing.key"));
  }
}

}  // namespace
}  // namespace airlock::installer
