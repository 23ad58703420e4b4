#include "core/format/index.h"

#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/crypto/sodium.h"

namespace airlock::format {
namespace {

using nlohmann::json;

std::string hex_of(char c, std::size_t n) { return std::string(n, c); }

Recipient x25519_recipient(std::string keyid, std::uint8_t fill) {
  Recipient r;
  r.type = "x25519";
  r.keyid = std::move(keyid);
  r.wrapped_key.assign(80, fill);
  return r;
}

Recipient argon2_recipient() {
  Recipient r;
  r.type = "argon2id";
  r.argon2.opslimit = 3;
  r.argon2.memlimit = 64ull << 20;
  for (std::size_t i = 0; i < r.argon2.salt.size(); ++i) {
    r.argon2.salt[i] = static_cast<std::uint8_t>(0xa0 + i);
  }
  r.wrapped_key.assign(24 + 32 + 16, 0x5c);
  return r;
}

Header sample_header() {
  Header h;
  h.bundle_id = "0123456789abcdef0123456789abcdef";
  h.name = "llama-3.1-8b";
  h.version = "2024.07+r1";
  h.sequence = 42;
  h.created = 1700000000;
  h.expires = 1800000000;
  h.suite = "aes-256-gcm";
  h.recipients = {x25519_recipient("00112233aabbccdd", 0x11), x25519_recipient("ffeeddcc99887766", 0x22)};
  h.volumes = {VolumeInfo{"llama-3.1-8b-2024.07+r1.vol001.tar", 4194304, hex_of('a', 64)},
               VolumeInfo{"llama-3.1-8b-2024.07+r1.vol002.tar", 1234, hex_of('7', 64)}};
  h.tool = "airlock-bundler 0.1.0";
  return h;
}

void check_same(const Header& a, const Header& b) {
  CHECK(a.bundle_id == b.bundle_id);
  CHECK(a.name == b.name);
  CHECK(a.version == b.version);
  CHECK(a.sequence == b.sequence);
  CHECK(a.created == b.created);
  CHECK(a.expires == b.expires);
  CHECK(a.suite == b.suite);
  CHECK(a.tool == b.tool);
  REQUIRE(a.recipients.size() == b.recipients.size());
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    const Recipient& x = a.recipients[i];
    const Recipient& y = b.recipients[i];
    CHECK(x.type == y.type);
    CHECK(x.wrapped_key == y.wrapped_key);
    if (x.type == "x25519") {
      CHECK(x.keyid == y.keyid);
    } else {
      CHECK(x.argon2.opslimit == y.argon2.opslimit);
      CHECK(x.argon2.memlimit == y.argon2.memlimit);
      CHECK(x.argon2.salt == y.argon2.salt);
    }
  }
  REQUIRE(a.volumes.size() == b.volumes.size());
  for (std::size_t i = 0; i < a.volumes.size(); ++i) {
    CHECK(a.volumes[i].name == b.volumes[i].name);
    CHECK(a.volumes[i].size == b.volumes[i].size);
    CHECK(a.volumes[i].sha256 == b.volumes[i].sha256);
  }
}

Result<Header> parse_json(const json& j) {
  std::string text = j.dump();
  return parse_header(as_bytes(text));
}

json header_json(const Header& h) { return json::parse(serialize_header(h)); }

crypto::Signature sig_filled(std::uint8_t v) {
  crypto::Signature s{};
  s.fill(v);
  return s;
}

IndexFile sample_index() {
  IndexFile f;
  std::string header = serialize_header(sample_header());
  f.header.assign(header.begin(), header.end());
  for (int i = 0; i < 57; ++i) {
    f.body.push_back(static_cast<std::uint8_t>(i * 7 + 3));
  }
  f.signatures = {SignatureEntry{"0011223344556677", sig_filled(0x01)},
                  SignatureEntry{"8899aabbccddeeff", sig_filled(0xfe)}};
  return f;
}

// An index whose signature envelope is `envelope`, built by hand.
Bytes index_with_envelope(ByteSpan header, ByteSpan body, std::string_view envelope) {
  Bytes out = {'A', 'I', 'R', 'L', 'O', 'C', 'K', 0};
  put_u32le(out, 1);
  put_u32le(out, static_cast<std::uint32_t>(header.size()));
  append(out, header);
  put_u64le(out, body.size());
  append(out, body);
  put_u32le(out, static_cast<std::uint32_t>(envelope.size()));
  append(out, as_bytes(envelope));
  return out;
}

void put_u32_at(Bytes& b, std::size_t pos, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[pos + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u32le_into(std::span<std::uint8_t> out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u64_at(Bytes& b, std::size_t pos, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b[pos + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

// ---------------------------------------------------------------- header ---

TEST_CASE("header: serialize/parse round trip keeps every field (x25519 recipients)", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Header h = sample_header();
  std::string text = serialize_header(h);
  auto parsed = parse_header(as_bytes(text));
  REQUIRE(parsed.has_value());
  check_same(h, *parsed);
  // Canonical: serializing what was parsed gives the same bytes.
  CHECK(serialize_header(*parsed) == text);
  // Sorted keys, no whitespace between tokens: exactly the compact dump.
  CHECK(json::parse(text).dump() == text);
  CHECK(text.find(": ") == std::string::npos);
  CHECK(text.find(", ") == std::string::npos);
  CHECK(text.find("\"bundle_id\"") < text.find("\"created\""));
  CHECK(text.find("\"created\"") < text.find("\"deployment\""));
  CHECK(text.find("\"volumes\"") > text.find("\"tool\""));
}

TEST_CASE("header: round trip with an argon2id recipient", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Header h = sample_header();
  h.recipients = {argon2_recipient()};
  auto parsed = parse_header(as_bytes(serialize_header(h)));
  REQUIRE(parsed.has_value());
  check_same(h, *parsed);
  json j = header_json(h);
  CHECK(j["recipients"][0]["opslimit"] == 3);
  CHECK(j["recipients"][0]["memlimit"] == (64ull << 20));
  CHECK_FALSE(j["recipients"][0].contains("keyid"));
}

TEST_CASE("header: expires is optional", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Header h = sample_header();
  h.expires.reset();
  std::string text = serialize_header(h);
  CHECK(text.find("expires") == std::string::npos);
  auto parsed = parse_header(as_bytes(text));
  REQUIRE(parsed.has_value());
  CHECK_FALSE(parsed->expires.has_value());
  check_same(h, *parsed);

  h.expires = -5;  // a signed field: negative values survive
  parsed = parse_header(as_bytes(serialize_header(h)));
  REQUIRE(parsed.has_value());
  CHECK(parsed->expires == std::optional<std::int64_t>(-5));
}

TEST_CASE("header: suite none with no recipients round trips", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Header h = sample_header();
  h.suite = "none";
  h.recipients.clear();
  auto parsed = parse_header(as_bytes(serialize_header(h)));
  REQUIRE(parsed.has_value());
  CHECK_FALSE(parsed->encrypted());
  check_same(h, *parsed);
}

TEST_CASE("header: format name and version are checked", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  json j = header_json(sample_header());
  j["format_version"] = 4;
  auto r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kUnsupported);
  CHECK_THAT(r.error().message(), Catch::Contains("format version 4 is not supported (this build reads 1 to 3)"));
  j["format_version"] = 0;
  CHECK_FALSE(parse_json(j).has_value());
  // Versions 1 (plain frames), 2 (solid blocks) and 3 (deltas) are read, and kept.
  for (std::uint32_t v : {1u, 2u, 3u}) {
    j["format_version"] = v;
    auto ok = parse_json(j);
    REQUIRE(ok.has_value());
    CHECK(ok->format_version == v);
    CHECK(parse_header(as_bytes(serialize_header(*ok)))->format_version == v);
  }

  j = header_json(sample_header());
  j["format"] = "tarball";
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  for (const char* text : {"", "[]", "{", "\"x\"", "null"}) {
    INFO(text);
    auto bad = parse_header(as_bytes(text));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code() == ErrorCode::kCorruption);
  }
}

TEST_CASE("header: missing or mistyped fields are corruption naming the field", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  for (const char* key : {"bundle_id", "sequence", "created", "suite", "tool", "recipients", "volumes", "deployment"}) {
    INFO(key);
    json j = header_json(sample_header());
    j.erase(key);
    auto r = parse_json(j);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
  json j = header_json(sample_header());
  j["sequence"] = -1;
  auto r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("sequence") != std::string::npos);

  j = header_json(sample_header());
  j["created"] = "yesterday";
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("created") != std::string::npos);
}

TEST_CASE("header: rejects a bad bundle_id", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  for (std::string id : {std::string("0123456789ABCDEF0123456789ABCDEF"), hex_of('a', 31), hex_of('a', 33),
                         hex_of('a', 30) + "g0", std::string(""), hex_of('0', 64)}) {
    INFO(id);
    json j = header_json(sample_header());
    j["bundle_id"] = id;
    auto r = parse_json(j);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK(r.error().message().find("bundle_id") != std::string::npos);
  }
  json j = header_json(sample_header());
  j["bundle_id"] = 12345;
  auto r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
}

TEST_CASE("header: rejects a bad deployment name or version", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  for (const std::string& name : std::vector<std::string>{"Llama", "a/b", "..", ".", "", "a b", "a\\b", std::string(129, 'a')}) {
    INFO("name: " << name);
    json j = header_json(sample_header());
    j["deployment"]["name"] = name;
    auto r = parse_json(j);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
  for (std::string version : {"1/2", "..", "", "1 0", "v1:2"}) {
    INFO("version: " << version);
    json j = header_json(sample_header());
    j["deployment"]["version"] = version;
    auto r = parse_json(j);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
}

TEST_CASE("header: rejects an unknown cipher suite or recipient type as unsupported", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  json j = header_json(sample_header());
  j["suite"] = "chacha20-poly1305";
  auto r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kUnsupported);
  CHECK(r.error().message().find("chacha20-poly1305") != std::string::npos);

  j = header_json(sample_header());
  j["recipients"][0]["type"] = "rsa";
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kUnsupported);
  CHECK(r.error().message().find("rsa") != std::string::npos);
}

TEST_CASE("header: a passphrase stanza must be the only recipient", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Header h = sample_header();
  h.recipients = {argon2_recipient(), x25519_recipient("0011223344556677", 1)};
  auto r = parse_header(as_bytes(serialize_header(h)));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
  CHECK(r.error().message().find("passphrase") != std::string::npos);

  h.recipients = {x25519_recipient("0011223344556677", 1), argon2_recipient()};
  r = parse_header(as_bytes(serialize_header(h)));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  h.recipients = {argon2_recipient(), argon2_recipient()};
  r = parse_header(as_bytes(serialize_header(h)));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
}

TEST_CASE("header: recipients must match the cipher suite", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Header h = sample_header();
  h.recipients.clear();  // encrypted, but nobody can open it
  auto r = parse_header(as_bytes(serialize_header(h)));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
  CHECK(r.error().message().find("recipients") != std::string::npos);

  h = sample_header();
  h.suite = "none";  // not encrypted, yet carries stanzas
  r = parse_header(as_bytes(serialize_header(h)));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
}

TEST_CASE("header: recipient stanza fields are checked", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  json j = header_json(sample_header());
  j["recipients"][0]["wrapped_key"] = "not base64!";
  auto r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  j = header_json(sample_header());
  j["recipients"][0]["wrapped_key"] = to_base64(Bytes(257, 1));
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  j = header_json(sample_header());
  j["recipients"][0].erase("keyid");
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("keyid") != std::string::npos);

  Header h = sample_header();
  h.recipients = {argon2_recipient()};
  j = header_json(h);
  j["recipients"][0]["salt"] = to_base64(Bytes(15, 1));
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("salt") != std::string::npos);

  j = header_json(h);
  j["recipients"][0]["opslimit"] = -3;
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  j = header_json(sample_header());
  j["recipients"] = json::array();
  for (int i = 0; i < 257; ++i) {
    j["recipients"].push_back(header_json(sample_header())["recipients"][0]);
  }
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
}

TEST_CASE("header: rejects volume names with '/' and other bad volume entries", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  for (std::string name : {"../x.vol001.tar", "sub/x.vol001.tar", "/abs.tar", "", ".hidden.tar", "..", "a/"}) {
    INFO(name);
    json j = header_json(sample_header());
    j["volumes"][1]["name"] = name;
    auto r = parse_json(j);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
  json j = header_json(sample_header());
  j["volumes"] = json::array();
  auto r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  j = header_json(sample_header());
  j["volumes"][0]["size"] = -1;
  r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
}

TEST_CASE("header: rejects a bad volume sha256", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  for (std::string sha : {hex_of('a', 63), hex_of('a', 65), hex_of('A', 64), hex_of('a', 63) + "z", std::string()}) {
    INFO(sha);
    json j = header_json(sample_header());
    j["volumes"][0]["sha256"] = sha;
    auto r = parse_json(j);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
}

// ----------------------------------------------------------------- index ---

TEST_CASE("index: serialize/parse round trip", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  IndexFile f = sample_index();
  Bytes bytes = serialize_index(f);
  const std::size_t sig_len_at = 16 + f.header.size() + 8 + f.body.size();
  REQUIRE(bytes.size() > sig_len_at + 4);
  CHECK(get_u32le(bytes.data() + sig_len_at) == bytes.size() - sig_len_at - 4);
  CHECK(std::memcmp(bytes.data(), "AIRLOCK\0", 8) == 0);
  CHECK(get_u32le(bytes.data() + 8) == 1);
  CHECK(get_u32le(bytes.data() + 12) == f.header.size());
  CHECK(get_u64le(bytes.data() + 16 + f.header.size()) == f.body.size());
  auto parsed = parse_index(bytes);
  REQUIRE(parsed.has_value());
  CHECK(parsed->header == f.header);
  CHECK(parsed->body == f.body);
  REQUIRE(parsed->signatures.size() == 2);
  CHECK(parsed->signatures[0].keyid == "0011223344556677");
  CHECK(parsed->signatures[0].sig == sig_filled(0x01));
  CHECK(parsed->signatures[1].keyid == "8899aabbccddeeff");
  CHECK(parsed->signatures[1].sig == sig_filled(0xfe));
  CHECK(serialize_index(*parsed) == bytes);
}

TEST_CASE("index: empty body and no signatures round trip", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  IndexFile f = sample_index();
  f.body.clear();
  f.signatures.clear();
  auto parsed = parse_index(serialize_index(f));
  REQUIRE(parsed.has_value());
  CHECK(parsed->body.empty());
  CHECK(parsed->signatures.empty());
  CHECK(parsed->header == f.header);
}

TEST_CASE("index: rejects a bad magic", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Bytes good = serialize_index(sample_index());
  for (std::size_t i = 0; i < 8; ++i) {
    INFO("byte " << i);
    Bytes bad = good;
    bad[i] ^= 0x20;
    auto r = parse_index(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK(r.error().message().find("magic") != std::string::npos);
  }
}

TEST_CASE("index: rejects another container version as unsupported", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Bytes bytes = serialize_index(sample_index());
  for (std::uint32_t v : {0u, 2u, 0xffffffffu}) {
    INFO(v);
    put_u32_at(bytes, 8, v);
    auto r = parse_index(bytes);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kUnsupported);
  }
}

TEST_CASE("index: every truncation is an error, never a crash", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Bytes good = serialize_index(sample_index());
  REQUIRE(parse_index(good).has_value());
  std::size_t failures = 0;
  for (std::size_t n = 0; n < good.size(); ++n) {
    // A fresh heap copy of exactly n bytes so sanitizers see any over-read.
    std::vector<std::uint8_t> prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = parse_index(ByteSpan(prefix.data(), prefix.size()));
    if (!r.has_value()) {
      ++failures;
      if (r.error().code() != ErrorCode::kCorruption) {
        FAIL_CHECK("prefix of " << n << " bytes: unexpected error code: " << r.error().message());
      }
    } else {
      FAIL_CHECK("prefix of " << n << " bytes parsed");
    }
  }
  CHECK(failures == good.size());
}

TEST_CASE("index: rejects lengths over the caps", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  IndexFile f = sample_index();
  Bytes good = serialize_index(f);

  Bytes bad = good;
  put_u32_at(bad, 12, static_cast<std::uint32_t>(k_max_header_size + 1));
  auto r = parse_index(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
  CHECK(r.error().message().find("cap") != std::string::npos);

  bad = good;
  put_u32_at(bad, 12, 0xffffffffu);
  r = parse_index(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  const std::size_t body_len_at = 16 + f.header.size();
  bad = good;
  put_u64_at(bad, body_len_at, k_max_body_size + 1);
  r = parse_index(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
  CHECK(r.error().message().find("cap") != std::string::npos);

  bad = good;
  put_u64_at(bad, body_len_at, ~0ull);
  r = parse_index(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  const std::size_t sig_len_at = body_len_at + 8 + f.body.size();
  bad = good;
  put_u32_at(bad, sig_len_at, static_cast<std::uint32_t>(k_max_signatures_size + 1));
  r = parse_index(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
  CHECK(r.error().message().find("cap") != std::string::npos);
}

TEST_CASE("index: lengths that point past the end are truncation", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  IndexFile f = sample_index();
  Bytes good = serialize_index(f);
  Bytes bad = good;
  put_u32_at(bad, 12, static_cast<std::uint32_t>(good.size()));
  auto r = parse_index(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);

  bad = good;
  put_u64_at(bad, 16 + f.header.size(), f.body.size() + 1);
  r = parse_index(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
}

TEST_CASE("index: rejects trailing bytes after the envelope", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  for (std::size_t extra : {1u, 7u, 512u}) {
    INFO(extra);
    Bytes bytes = serialize_index(sample_index());
    bytes.insert(bytes.end(), extra, 0);
    auto r = parse_index(bytes);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK(r.error().message().find("unexpected bytes") != std::string::npos);
  }
}

TEST_CASE("index: rejects a malformed signature envelope", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  IndexFile f = sample_index();
  const std::string sig64 = to_base64(sig_filled(3));
  std::string too_many = R"({"signatures":[)";
  for (int i = 0; i < 33; ++i) {
    too_many += (i ? "," : "") + std::string(R"({"keyid":"0011223344556677","sig":")") + sig64 + "\"}";
  }
  too_many += "]}";
  const std::vector<std::string> envelopes = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"signatures":{}})",
      R"({"signatures":"x"})",
      R"({"signatures":[1]})",
      R"({"signatures":[{"sig":")" + sig64 + R"("}]})",
      R"({"signatures":[{"keyid":"0011223344556677"}]})",
      R"({"signatures":[{"keyid":7,"sig":")" + sig64 + R"("}]})",
      R"({"signatures":[{"keyid":"0011223344556677","sig":"!!!!"}]})",
      R"({"signatures":[{"keyid":"0011223344556677","sig":")" + to_base64(Bytes(63, 1)) + R"("}]})",
      R"({"signatures":[{"keyid":"0011223344556677","sig":")" + to_base64(Bytes(65, 1)) + R"("}]})",
      too_many,
      // Key ids that no key can have (keys::key_id: 16 lowercase hex).
      R"({"signatures":[{"keyid":"k","sig":")" + sig64 + R"("}]})",
      R"({"signatures":[{"keyid":"00112233445566778","sig":")" + sig64 + R"("}]})",
      R"({"signatures":[{"keyid":"00112233AABBCCDD","sig":")" + sig64 + R"("}]})",
      R"({"signatures":[{"keyid":"\u001b[2K\rinstalled x","sig":")" + sig64 + R"("}]})",
      R"({"signatures":[{"keyid":"0011223344556677\n","sig":")" + sig64 + R"("}]})",
  };
  for (const std::string& env : envelopes) {
    INFO(env);
    auto r = parse_index(index_with_envelope(f.header, f.body, env));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
  // The same builder with a well-formed envelope parses: the cases above fail
  // for their envelope alone.
  auto ok = parse_index(index_with_envelope(f.header, f.body, R"({"signatures":[{"keyid":"0011223344556677","sig":")" + sig64 + "\"}]}"));
  REQUIRE(ok.has_value());
  CHECK(ok->signatures.size() == 1);
}

TEST_CASE("index: signed_message binds header and body", "[format][index]") {
  IndexFile f = sample_index();
  const Bytes base = signed_message(f.header, f.body);
  const std::string_view domain("airlock-index-v1\0", 17);
  REQUIRE(base.size() == domain.size() + 8 + f.header.size() + 8 + f.body.size());
  CHECK(std::memcmp(base.data(), domain.data(), domain.size()) == 0);
  CHECK(get_u64le(base.data() + 17) == f.header.size());

  for (std::size_t i = 0; i < f.header.size(); ++i) {
    Bytes h = f.header;
    h[i] ^= 0x01;
    if (signed_message(h, f.body) == base) {
      FAIL_CHECK("header byte " << i << " is not covered");
    }
  }
  for (std::size_t i = 0; i < f.body.size(); ++i) {
    Bytes b = f.body;
    b[i] ^= 0x80;
    if (signed_message(f.header, b) == base) {
      FAIL_CHECK("body byte " << i << " is not covered");
    }
  }
  // Moving the boundary between header and body changes the message too.
  const Bytes ab = {'a', 'b'};
  const Bytes c = {'c'};
  const Bytes a = {'a'};
  const Bytes bc = {'b', 'c'};
  CHECK(signed_message(ab, c) != signed_message(a, bc));
  CHECK(signed_message(f.header, f.body) == base);  // deterministic
}

TEST_CASE("header: a key rotation round trips and malformed ones are refused", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Header h = sample_header();
  TrustChange change;
  TrustChange::NewKey k;
  k.name = "acme-2027";
  k.key.fill(0x42);
  change.add.push_back(k);
  change.revoke = {"0011223344556677"};
  change.threshold = 2;
  h.trust = change;
  const std::string text = serialize_header(h);
  auto parsed = parse_header(as_bytes(text));
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->trust.has_value());
  CHECK(parsed->trust->add.size() == 1);
  CHECK(parsed->trust->add[0].name == "acme-2027");
  CHECK(parsed->trust->add[0].key == k.key);
  CHECK(parsed->trust->revoke == std::vector<std::string>{"0011223344556677"});
  CHECK(parsed->trust->threshold == std::optional<std::uint32_t>(2));
  CHECK(serialize_header(*parsed) == text);
  // Without a rotation there is no "trust" key at all.
  h.trust.reset();
  CHECK(serialize_header(h).find("\"trust\"") == std::string::npos);

  const json good = json::parse(text);
  auto refused = [&](const char* what, auto edit) {
    json j = good;
    edit(j);
    auto r = parse_json(j);
    INFO(what);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  };
  refused("not an object", [](json& j) { j["trust"] = 1; });
  refused("no revoke array", [](json& j) { j["trust"].erase("revoke"); });
  refused("bad key id", [](json& j) { j["trust"]["revoke"] = {"XYZ"}; });
  refused("short key", [](json& j) { j["trust"]["add"][0]["key"] = "AAAA"; });
  refused("bad name", [](json& j) { j["trust"]["add"][0]["name"] = "../x"; });
  refused("threshold 0", [](json& j) { j["trust"]["threshold"] = 0; });
  refused("changes nothing", [](json& j) { j["trust"] = {{"add", json::array()}, {"revoke", json::array()}}; });
  refused("too many keys", [](json& j) {
    json many = json::array();
    for (int i = 0; i < 33; ++i) many.push_back("0011223344556677");
    j["trust"]["revoke"] = many;
  });
}


TEST_CASE("index: a forged key id is refused without being quoted", "[format][index]") {
  REQUIRE(crypto::init_sodium());
  IndexFile f = sample_index();
  const std::string sig64 = to_base64(sig_filled(3));
  auto r = parse_index(index_with_envelope(
      f.header, f.body, R"({"signatures":[{"keyid":"\u001b]0;pwned\u0007 installed","sig":")" + sig64 + "\"}]}"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("pwned") == std::string::npos);
  CHECK(r.error().message().find('\x1b') == std::string::npos);
}

TEST_CASE("index: a recipient key id must be a key id", "[format][index]") {
  json j = header_json(sample_header());
  j["recipients"][0]["keyid"] = "\x1b[31mred";
  auto r = parse_json(j);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kCorruption);
}

TEST_CASE("index: read_index_layout checks lengths against the file size before reading further",
          "[format][index]") {
  REQUIRE(crypto::init_sodium());
  Bytes good = serialize_index(sample_index());
  std::size_t reads = 0;
  std::uint64_t bytes_read = 0;
  auto reader = [&](const Bytes& b) {
    return [&b, &reads, &bytes_read](std::uint64_t offset, std::span<std::uint8_t> out) -> Status {
      ++reads;
      bytes_read += out.size();
      REQUIRE(offset + out.size() <= b.size());
      std::memcpy(out.data(), b.data() + offset, out.size());
      return ok_status();
    };
  };
  auto l = read_index_layout(good.size(), reader(good));
  REQUIRE(l.has_value());
  CHECK(reads == 3);  // the fixed fields only: 16 + 8 + 4 bytes
  CHECK(bytes_read == 28);
  const IndexFile f = sample_index();
  CHECK(l->header_size == f.header.size());
  CHECK(l->body_offset == 16 + f.header.size() + 8);
  CHECK(l->body_size == f.body.size());
  CHECK(l->signatures_offset + l->signatures_size == good.size());

  // A body of 500 MiB claimed in a file that does not hold it: refused from
  // the lengths, nothing else read.
  Bytes claims = good;
  put_u64_at(claims, 16 + f.header.size(), 500ull << 20);
  reads = 0;
  auto r = read_index_layout(claims.size(), reader(claims));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("truncated in the body") != std::string::npos);
  CHECK(reads == 2);
  // The same claim with a file of the right (apparent) size passes the layout:
  // the caller decides (before_body) before reading the body.
  auto big = read_index_layout(16 + f.header.size() + 8 + (500ull << 20) + 4 + l->signatures_size,
                               [&](std::uint64_t offset, std::span<std::uint8_t> out) -> Status {
                                 if (offset < claims.size() - 4 - l->signatures_size) {
                                   std::memcpy(out.data(), claims.data() + offset, out.size());
                                 } else {  // the signature length, after the (absent) body
                                   put_u32le_into(out, static_cast<std::uint32_t>(l->signatures_size));
                                 }
                                 return ok_status();
                               });
  REQUIRE(big.has_value());
  CHECK(big->body_size == (500ull << 20));
}

}  // namespace airlock::format
