// Expiry and the time floor, with the clock set through the Clock seam
// (tests/support/fake_clock.h) rather than libfaketime: in-process, so under
// ASan/UBSan too (tests/e2e/clock_*.sh remain the end-to-end proof).

#include "installer/admit/gate.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "installer/install/install.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_process_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_bundle.h"

using namespace airlock;
using namespace airlock::installer;

namespace {

namespace stdfs = std::filesystem;

constexpr std::int64_t k_t = 1'750'000'000;
constexpr std::int64_t k_slack = 3600;  // installer/admit/gate.cc

struct Rig {
  test::TempDir dir{"gate"};
  test::FakeClock clock{k_t};
  os::PosixFileSystem files;
  test::FakeProcessRunner processes;
  test::Publisher publisher;
  std::unique_ptr<Site> site;
  format::SiteKey key;
  int made = 0;

  Rig() {
    auto s = Site::init(dir.path() / "root", Os{clock, files, processes});
    REQUIRE(s.has_value());
    site = std::move(*s);
    REQUIRE(site->trust_store().add_key(publisher.public_key(), "publisher").has_value());
    auto k = site->site_key();
    REQUIRE(k.has_value());
    key = *k;
  }
  stdfs::path bundle(std::uint64_t sequence, std::int64_t created, std::optional<std::int64_t> expires = {}) {
    test::BundleSpec spec{"demo", fmt::format("{}.0", sequence), sequence, created, expires, {{"a.txt", "hello"}}};
    auto p = test::write_test_bundle(spec, dir.path() / fmt::format("b{}", ++made), key.pub, publisher);
    REQUIRE(p.has_value());
    return *p;
  }
};

}  // namespace

TEST_CASE("expiry is measured by the site's clock", "[gate][clock]") {
  Rig rig;
  const stdfs::path b = rig.bundle(1, k_t - 10, k_t + 600);
  rig.clock.set(k_t + 600);
  CHECK(admit(*rig.site, b, GateOptions{}).has_value());  // the last second it is valid
  rig.clock.set(k_t + 601);
  auto late = admit(*rig.site, b, GateOptions{});
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().code() == ErrorCode::kExpired);
  CHECK_THAT(late.error().message(), Catch::Contains("expired 1 seconds ago"));
}

TEST_CASE("a clock behind the bundle's creation time is refused", "[gate][clock]") {
  Rig rig;
  const stdfs::path b = rig.bundle(1, k_t);
  rig.clock.set(k_t - k_slack);
  CHECK(admit(*rig.site, b, GateOptions{}).has_value());  // within the slack
  rig.clock.set(k_t - k_slack - 1);
  auto behind = admit(*rig.site, b, GateOptions{});
  REQUIRE_FALSE(behind.has_value());
  CHECK(behind.error().code() == ErrorCode::kExpired);
  CHECK_THAT(behind.error().message(), Catch::Contains("the clock is behind"));
}

TEST_CASE("a clock set back behind the time floor is refused, whatever the new bundle says", "[gate][clock]") {
  Rig rig;
  REQUIRE(install_bundle(*rig.site, rig.bundle(1, k_t), InstallOptions{}).has_value());
  // An older-dated bundle, and the clock put back to agree with it.
  const stdfs::path older = rig.bundle(2, k_t - 10 * k_slack);
  rig.clock.set(k_t - k_slack);
  CHECK(admit(*rig.site, older, GateOptions{}).has_value());  // within the slack of the floor
  rig.clock.set(k_t - k_slack - 1);
  auto back = admit(*rig.site, older, GateOptions{});
  REQUIRE_FALSE(back.has_value());
  CHECK(back.error().code() == ErrorCode::kExpired);
  CHECK_THAT(back.error().message(), Catch::Contains("the clock has been set back"));
  // The ledger's events carry the site clock's time.
  auto events = rig.site->ledger().events();
  REQUIRE(events.has_value());
  REQUIRE_FALSE(events->empty());
  CHECK(events->back().time == k_t);
}
