#include "installer/admit/rotation.h"

#include <catch2/catch.hpp>

#include "installer/install/recover.h"
#include "installer/site/site.h"
#include "keys/key_files.h"
#include "tests/support/temp_dir.h"

using namespace airlock;
using namespace airlock::installer;

namespace {

format::TrustChange::NewKey new_key(const std::string& name) {
  format::TrustChange::NewKey k;
  k.name = name;
  crypto::SignSecretKey sk{};
  crypto::ed25519_keypair(k.key, sk);
  return k;
}

keys::PublicKey as_public(const format::TrustChange::NewKey& k) { return keys::PublicKey{keys::key_id(k.key), k.key}; }

format::Header rotation_header(const std::string& bundle_id, const format::TrustChange& change) {
  format::Header h;
  h.bundle_id = bundle_id;
  h.name = "demo";
  h.version = "1.0.0";
  h.trust = change;
  return h;
}

struct Fixture {
  SystemOs system;
  test::TempDir dir{"rotation"};
  std::unique_ptr<Site> site;
  format::TrustChange::NewKey publisher = new_key("publisher");
  Fixture() {
    auto s = Site::init(dir.path() / "root", system.os());
    REQUIRE(s.has_value());
    site = std::move(*s);
    REQUIRE(site->trust_store().add_key(as_public(publisher), "publisher").has_value());
    REQUIRE(site->log("trust-add", "key/publisher", "ok", "").has_value());
  }
  bool trusts(const std::string& name) {
    auto keys = site->trust_store().list();
    REQUIRE(keys.has_value());
    return std::any_of(keys->begin(), keys->end(), [&](const keys::TrustedKey& k) { return k.name == name; });
  }
};

}  // namespace

TEST_CASE("a trust change round-trips through the ledger's JSON", "[rotation]") {
  format::TrustChange change;
  change.add = {new_key("a"), new_key("b")};
  change.revoke = {"0123456789abcdef"};
  change.threshold = 2;
  auto back = parse_trust_change_json(trust_change_json(change));
  REQUIRE(back.has_value());
  REQUIRE(back->add.size() == 2);
  CHECK(back->add[1].name == "b");
  CHECK(back->add[1].key == change.add[1].key);
  CHECK(back->revoke == change.revoke);
  CHECK(back->threshold == std::optional<std::uint32_t>(2));
  for (const char* bad : {"{", "[]", R"({"add":[]})", R"({"add":[{"name":"a","key":"AAAA"}],"revoke":[]})",
                          R"({"add":[],"revoke":[],"threshold":0})"}) {
    auto parsed = parse_trust_change_json(bad);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code() == ErrorCode::kCorruption);
  }
}

TEST_CASE("a pending rotation is applied once by recover() while the trust policy is unchanged", "[rotation]") {
  Fixture f;
  format::TrustChange change;
  change.add = {new_key("new")};
  const format::Header h = rotation_header(std::string(32, 'a'), change);
  REQUIRE(f.site->ledger().with_transaction([&] { return record_pending_rotation(*f.site, h, std::string(64, 'f')); }));
  CHECK_FALSE(f.trusts("new"));

  auto repaired = recover(*f.site);
  REQUIRE(repaired.has_value());
  REQUIRE(repaired->repaired.size() == 1);
  CHECK_THAT(repaired->repaired[0], Catch::Contains("completed the interrupted key rotation") && Catch::Contains("added new"));
  CHECK(f.trusts("new"));
  auto row = f.site->ledger().find_rotation(h.bundle_id);
  REQUIRE(row.has_value());
  REQUIRE(row->has_value());
  CHECK((*row)->state == "applied");

  // Settled once: the operator's later removal sticks through further recoveries.
  REQUIRE(f.site->trust_store().remove("new").has_value());
  auto again = recover(*f.site);
  REQUIRE(again.has_value());
  CHECK(again->repaired.empty());
  CHECK_FALSE(f.trusts("new"));
}

TEST_CASE("a pending rotation older than the current trust policy is superseded, never applied", "[rotation]") {
  Fixture f;
  format::TrustChange change;
  change.add = {new_key("new")};
  change.revoke = {as_public(f.publisher).keyid};
  const format::Header h = rotation_header(std::string(32, 'b'), change);
  REQUIRE(f.site->ledger().with_transaction([&] { return record_pending_rotation(*f.site, h, std::string(64, 'e')); }));
  // The operator changed the policy after the rotation was recorded.
  REQUIRE(f.site->log("trust-threshold", "policy", "ok", "publisher threshold 1").has_value());

  auto repaired = recover(*f.site);
  REQUIRE(repaired.has_value());
  REQUIRE(repaired->repaired.size() == 1);
  CHECK_THAT(repaired->repaired[0], Catch::Contains("not applied") && Catch::Contains("trust policy changed"));
  CHECK_FALSE(f.trusts("new"));
  CHECK(f.trusts("publisher"));
  auto row = f.site->ledger().find_rotation(h.bundle_id);
  REQUIRE(row->has_value());
  CHECK((*row)->state == "superseded");
  auto events = f.site->ledger().events();
  REQUIRE(events.has_value());
  CHECK(std::any_of(events->begin(), events->end(), [](const EventRecord& e) {
    return e.action == "trust-rotate" && e.result == "refused";
  }));
  CHECK(recover(*f.site)->repaired.empty());
}

TEST_CASE("a pending rotation that no longer checks is superseded with the reason", "[rotation]") {
  Fixture f;
  format::TrustChange change;
  change.revoke = {as_public(f.publisher).keyid};  // would leave no trusted key
  const format::Header h = rotation_header(std::string(32, 'c'), change);
  REQUIRE(f.site->ledger().with_transaction([&] { return record_pending_rotation(*f.site, h, std::string(64, 'd')); }));
  auto pending = f.site->ledger().find_rotation(h.bundle_id);
  REQUIRE(pending->has_value());
  auto settled = settle_rotation(*f.site, **pending);
  REQUIRE(settled.has_value());
  CHECK_FALSE(settled->applied);
  CHECK_THAT(settled->line, Catch::Contains("would leave 0 trusted key(s)"));
  CHECK(f.trusts("publisher"));
  auto twice = settle_rotation(*f.site, **pending);
  CHECK_FALSE(twice.has_value());  // settled once
}
