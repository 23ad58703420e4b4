#include "core/format/have_list.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "core/crypto/sha256.h"

namespace airlock::format {
namespace {

struct TestKey {
  Signer signer;
  crypto::SignPublicKey pub{};
};

TestKey make_key() {
  REQUIRE(crypto::init_sodium());
  TestKey k;
  crypto::ed25519_keypair(k.pub, k.signer.secret);
  k.signer.keyid = crypto::sha256_hex(k.pub).substr(0, 16);
  return k;
}

HaveList sample_list() {
  HaveList l;
  l.site_keyid = "0123456789abcdef";
  l.created = 1767225600;
  l.tool = "airlock-installer 0.1.0";
  // Not in file order: the writer sorts by name, then sequence.
  l.entries.push_back({"llama", "2.0.0", std::string(32, 'b'), 2, true});
  l.entries.push_back({"demo", "1.0.0", std::string(32, 'c'), 7, false});
  l.entries.push_back({"llama", "1.0.0", std::string(32, 'a'), 1, false});
  return l;
}

// Where the signature line starts.
std::size_t signed_size(const std::string& text) {
  return text.rfind('\n', text.size() - 2) + 1;
}

TEST_CASE("have-list: round trip, entries one a line, sorted, signed", "[have_list]") {
  const TestKey key = make_key();
  const HaveList list = sample_list();
  const std::string text = write_have_list(list, key.signer);
  CHECK(text.starts_with(
      "{\"airlock_have\":1,\"created\":1767225600,\"site_key\":\"0123456789abcdef\",\"signing_key\":\"" +
      key.signer.keyid + "\",\"tool\":\"airlock-installer 0.1.0\",\"deployments\":[\n"
                         "{\"name\":\"demo\",\"version\":\"1.0.0\",\"bundle_id\":\"" +
      std::string(32, 'c') + "\",\"sequence\":7,\"active\":false},\n"));
  CHECK(text.find("\n]}\nsignature ed25519 " + key.signer.keyid + " ") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 6);  // header, 3 entries, "]}", signature

  auto back = read_have_list(text, key.pub);
  REQUIRE(back.has_value());
  CHECK(back->signing_keyid == key.signer.keyid);
  CHECK(back->site_keyid == list.site_keyid);
  CHECK(back->created == list.created);
  CHECK(back->tool == list.tool);
  REQUIRE(back->entries.size() == 3);
  CHECK(back->entries[0] == list.entries[1]);
  CHECK(back->entries[1] == list.entries[2]);
  CHECK(back->entries[2] == list.entries[0]);
  // Writing what was read gives the same bytes (one form per list).
  CHECK(write_have_list(*back, key.signer) == text);
}

TEST_CASE("have-list: an empty list round-trips", "[have_list]") {
  const TestKey key = make_key();
  HaveList list = sample_list();
  list.entries.clear();
  auto back = read_have_list(write_have_list(list, key.signer), key.pub);
  REQUIRE(back.has_value());
  CHECK(back->entries.empty());
}

TEST_CASE("have-list: a flipped byte anywhere in the signed part is refused as altered", "[have_list]") {
  const TestKey key = make_key();
  const std::string text = write_have_list(sample_list(), key.signer);
  const std::size_t n = signed_size(text);
  for (std::size_t i = 0; i < n; ++i) {
    std::string bad = text;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = read_have_list(bad, key.pub);
    INFO("byte " << i);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is_verification_failure());
    if (i + 1 < n) {
      CHECK(r.error().code() == ErrorCode::kBadSignature);
      CHECK_THAT(r.error().message(), Catch::Contains("altered"));
    } else {
      // The signed part's last newline: the signature line is no longer a line of its own.
      CHECK(r.error().code() == ErrorCode::kCorruption);
    }
  }
  // And in the signature itself.
  for (std::size_t i = n + std::string_view("signature ed25519 0123456789abcdef ").size(); i + 1 < text.size(); ++i) {
    std::string bad = text;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = read_have_list(bad, key.pub);
    INFO("byte " << i);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is_verification_failure());
  }
}

TEST_CASE("have-list: an edited entry is refused as altered, even a plausible one", "[have_list]") {
  const TestKey key = make_key();
  const std::string text = write_have_list(sample_list(), key.signer);
  for (auto [from, to] : {std::pair<std::string, std::string>{"\"sequence\":7", "\"sequence\":9"},
                          {"\"active\":false", "\"active\":true "},
                          {"\"version\":\"1.0.0\"", "\"version\":\"1.0.1\""},
                          {std::string(32, 'c'), std::string(32, 'd')}}) {
    std::string bad = text;
    const std::size_t at = bad.find(from);
    REQUIRE(at != std::string::npos);
    bad.replace(at, from.size(), to);
    auto r = read_have_list(bad, key.pub);
    INFO(from);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kBadSignature);
  }
  // A whole entry removed (the site would seem to lack a version).
  std::string bad = text;
  const std::size_t line = bad.find("{\"name\":\"llama\",\"version\":\"1.0.0\"");
  bad.erase(line, bad.find('\n', line) + 1 - line);
  auto r = read_have_list(bad, key.pub);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kBadSignature);
}

TEST_CASE("have-list: truncation anywhere is refused", "[have_list]") {
  const TestKey key = make_key();
  const std::string text = write_have_list(sample_list(), key.signer);
  for (std::size_t len = 0; len < text.size(); ++len) {
    auto r = read_have_list(std::string_view(text).substr(0, len), key.pub);
    INFO("length " << len);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is_verification_failure());
  }
  // Cut at a line end, before the signature: no signature line.
  auto r = read_have_list(std::string_view(text).substr(0, signed_size(text)), key.pub);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
  CHECK_THAT(r.error().message(), Catch::Contains("signature"));
}

TEST_CASE("have-list: another key's list is refused as not this site's", "[have_list]") {
  const TestKey key = make_key();
  const TestKey other = make_key();
  const std::string text = write_have_list(sample_list(), other.signer);
  auto r = read_have_list(text, key.pub);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kUntrusted);
  CHECK_THAT(r.error().message(), Catch::Contains(other.signer.keyid) && Catch::Contains(key.signer.keyid) &&
                                      Catch::Contains("another site"));
  // The other key's signature under this key's id: altered, not another site.
  std::string relabelled = text;
  const std::size_t at = relabelled.rfind(other.signer.keyid);
  relabelled.replace(at, 16, key.signer.keyid);
  auto r2 = read_have_list(relabelled, key.pub);
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().code() == ErrorCode::kBadSignature);
}

TEST_CASE("have-list: over the caps", "[have_list]") {
  const TestKey key = make_key();
  SECTION("more than 1 MiB") {
    std::string text = write_have_list(sample_list(), key.signer);
    text.insert(0, k_have_max_bytes, ' ');
    auto r = read_have_list(text, key.pub);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(r.error().message(), Catch::Contains("cap"));
  }
  SECTION("more than 10000 entries, signed and under 1 MiB") {
    HaveList list = sample_list();
    list.entries.clear();
    // As short as entries get (one-letter names, two-character versions,
    // sequence 0): about 104 bytes each, so 10001 of them just fit in 1 MiB.
    constexpr std::string_view digits = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (std::size_t i = 0; i <= k_have_max_entries; ++i) {
      const std::size_t v = i / 10;
      list.entries.push_back({std::string(1, digits[i % 10 + 10]), fmt::format("{}{}", digits[v / 36], digits[v % 36]),
                              std::string(32, 'a'), 0, false});
    }
    const std::string text = write_have_list(list, key.signer);
    REQUIRE(text.size() <= k_have_max_bytes);
    auto r = read_have_list(text, key.pub);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(r.error().message(), Catch::Contains("10001 entries"));
    list.entries.pop_back();
    CHECK(read_have_list(write_have_list(list, key.signer), key.pub).has_value());  // exactly the cap
  }
}

TEST_CASE("have-list: signed but malformed content is refused", "[have_list]") {
  const TestKey key = make_key();
  auto refused = [&](HaveList list, const std::string& what) {
    auto r = read_have_list(write_have_list(list, key.signer), key.pub);
    INFO(what);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  };
  HaveList l = sample_list();
  l.entries[0].name = "../etc";
  refused(l, "name");
  l = sample_list();
  l.entries[0].version = "current";
  refused(l, "version");
  l = sample_list();
  l.entries[0].bundle_id = std::string(32, 'A');
  refused(l, "bundle id case");
  l = sample_list();
  l.entries[0].bundle_id = std::string(31, 'a');
  refused(l, "bundle id length");
  l = sample_list();
  l.entries.push_back(l.entries[0]);
  refused(l, "duplicate");
  l = sample_list();
  l.entries[2].active = true;  // llama 1.0.0 and 2.0.0 both active
  refused(l, "two active");
  l = sample_list();
  l.tool = "x\ny";
  refused(l, "tool");
  l = sample_list();
  l.site_keyid = "nothex";
  refused(l, "site key");
}

}  // namespace
}  // namespace airlock::format
