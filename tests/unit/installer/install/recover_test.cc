#include "installer/install/recover.h"

#include <filesystem>

#include <catch2/catch.hpp>

#include "installer/site/os.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace airlock::installer {
namespace {

namespace stdfs = std::filesystem;

// What recover() finds on a site no install ever committed to: leftovers of
// interrupted ones. The ledger is the truth, so all of it goes, each repair
// logged; ROOT as init made it is left alone.
TEST_CASE("recover: an initialised root needs nothing", "[recover]") {
  test::TempDir dir;
  SystemOs system;
  auto site = Site::init(dir.path() / "root", system.os());
  REQUIRE(site.has_value());
  auto r = recover(**site);
  REQUIRE(r.has_value());
  CHECK(r->repaired.empty());
  CHECK(r->failures.empty());
}

TEST_CASE("recover: staging and versions the ledger never committed are removed and logged", "[recover]") {
  test::TempDir dir;
  SystemOs system;
  auto opened = Site::init(dir.path() / "root", system.os());
  REQUIRE(opened.has_value());
  Site& site = **opened;
  test::write_text(site.staging_dir() / "llm-2.x1" / "model" / "part", "half-written");
  test::write_text(site.version_dir("llm", "2") / "model" / "config.json", "{}");
  test::write_text(site.deployment_dir("llm") / "3.tmp-abc" / "f", "a rename that never happened");
  // A file planted outside ROOT, linked from staging: the link goes, the file stays.
  test::write_text(dir.path() / "outside", "not ours");
  stdfs::create_symlink(dir.path() / "outside", site.staging_dir() / "link");

  auto r = recover(site);
  REQUIRE(r.has_value());
  CHECK(r->failures.empty());
  CHECK(stdfs::is_empty(site.staging_dir()));
  CHECK_FALSE(stdfs::exists(site.version_dir("llm", "2")));
  CHECK_FALSE(stdfs::exists(site.deployment_dir("llm") / "3.tmp-abc"));
  CHECK(test::read_text(dir.path() / "outside") == "not ours");
  REQUIRE(r->repaired.size() == 3);  // two staging entries, one version (a .tmp- is tidied silently)
  bool named = false;
  for (const std::string& line : r->repaired) {
    named = named || line == "removed llm/2 (not committed to the ledger)";
  }
  CHECK(named);

  auto events = site.ledger().events(std::nullopt);
  REQUIRE(events.has_value());
  std::size_t recovers = 0;
  for (const EventRecord& e : *events) {
    recovers += e.action == "recover" && e.result == "ok" ? 1 : 0;
  }
  CHECK(recovers == 3);
  // Run again: nothing left to repair.
  auto again = recover(site);
  REQUIRE(again.has_value());
  CHECK(again->repaired.empty());
}

}  // namespace
}  // namespace airlock::installer
