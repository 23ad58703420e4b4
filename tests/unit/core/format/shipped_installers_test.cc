#include "core/format/shipped_installers.h"

#include <algorithm>

#include <catch2/catch.hpp>

#include "core/crypto/pem.h"
#include "core/format/index.h"

namespace airlock::format {
namespace {

const std::string k_x86 = "airlock-installer-linux-x86_64";
const std::string k_arm = "airlock-installer-linux-aarch64";

// A list as create writes it for `binaries` and `signers` key ids.
ShippedInstallers sample(const std::vector<std::string>& binaries, std::size_t signers) {
  ShippedInstallers s;
  for (std::size_t k = 1; k <= signers; ++k) {
    s.signers.push_back(fmt::format("{:016x}", k));
  }
  for (const std::string& b : binaries) {
    s.files.push_back({b, 1000, std::string(64, 'a')});
  }
  for (const std::string& b : binaries) {
    for (std::size_t k = 1; k <= signers; ++k) {
      s.files.push_back({signature_name(b, k), 64, std::string(64, 'b')});
    }
  }
  for (std::size_t k = 1; k <= signers; ++k) {
    s.files.push_back({public_key_name(k), 113, std::string(64, 'c')});
  }
  s.files.push_back({"README.txt", 2000, std::string(64, 'd')});
  s.files.push_back({"SHA256SUMS", 500, std::string(64, 'e')});
  return s;
}

Header installers_header() {
  Header h;
  h.bundle_id = std::string(32, 'a');
  h.name = "demo";
  h.version = "1.0.0";
  h.sequence = 7;
  h.created = 1700000000;
  h.suite = "none";
  h.tool = "airlock-bundler 0.1.0";
  h.volumes = {{"demo-1.0.0.vol001.tar", 10240, std::string(64, 'f')}};
  return h;
}

void expect_installers_refused(const nlohmann::json& j, const std::string& says) {
  auto parsed = parse_shipped(j);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().code() == ErrorCode::kCorruption);
  CHECK_THAT(parsed.error().message(), Catch::Contains(says));
}

}  // namespace

TEST_CASE("shipped installers: file names and their kinds", "[shipped]") {
  CHECK(signature_name(k_x86, 1) == "airlock-installer-linux-x86_64.sig");
  CHECK(signature_name(k_x86, 2) == "airlock-installer-linux-x86_64.2.sig");
  CHECK(public_key_name(1) == "publisher.pem");
  CHECK(public_key_name(12) == "publisher.12.pem");
  CHECK(shipped_kind(k_x86) == ShippedKind::kBinary);
  CHECK(shipped_kind(k_arm) == ShippedKind::kBinary);
  CHECK(shipped_kind("airlock-installer-linux-riscv64") == ShippedKind::kBinary);
  CHECK(shipped_kind(k_x86 + ".sig") == ShippedKind::kSignature);
  CHECK(shipped_kind(k_x86 + ".32.sig") == ShippedKind::kSignature);
  CHECK(shipped_kind("publisher.pem") == ShippedKind::kPublicKey);
  CHECK(shipped_kind("publisher.2.pem") == ShippedKind::kPublicKey);
  CHECK(shipped_kind("SHA256SUMS") == ShippedKind::kSums);
  CHECK(shipped_kind("README.txt") == ShippedKind::kReadme);
  const std::vector<std::string> bad_names = {
      "airlock-installer-linux-", "airlock-installer-linux-X86", "airlock-installer-linux-a/b",
      "airlock-installer-linux-x86_64.1.sig", "airlock-installer-linux-x86_64.02.sig",
      "airlock-installer-linux-x86_64.33.sig", "airlock-installer-linux-x86_64.sig.sig", "publisher.1.pem",
      "publisher.x.pem", "publisher", "readme.txt", "../SHA256SUMS", "airlock-installer-linux-" + std::string(33, 'a')};
  for (const std::string& bad : bad_names) {
    CHECK(shipped_kind(bad) == ShippedKind::kOther);
  }
  CHECK(looks_like_shipped_installer_file("airlock-installer-linux-x86_64.old"));
  CHECK(looks_like_shipped_installer_file("publisher.other.pem"));
  CHECK_FALSE(looks_like_shipped_installer_file("README.txt"));  // an operator's own notes may be there
  CHECK_FALSE(looks_like_shipped_installer_file("demo-1.0.0.airlock"));
}

TEST_CASE("shipped installers: the header key round-trips and is absent when unused", "[shipped][index]") {
  Header h = installers_header();
  const std::string plain = serialize_header(h);
  CHECK(plain.find("installers") == std::string::npos);  // older bundles: byte for byte as before
  auto back = parse_header(as_bytes(plain));
  REQUIRE(back.has_value());
  CHECK_FALSE(back->installers.has_value());

  h.installers = sample({k_x86, k_arm}, 2);
  const std::string with = serialize_header(h);
  back = parse_header(as_bytes(with));
  REQUIRE(back.has_value());
  REQUIRE(back->installers.has_value());
  CHECK(back->installers->signers == h.installers->signers);
  REQUIRE(back->installers->files.size() == h.installers->files.size());
  for (std::size_t i = 0; i < h.installers->files.size(); ++i) {
    CHECK(back->installers->files[i].name == h.installers->files[i].name);
    CHECK(back->installers->files[i].size == h.installers->files[i].size);
    CHECK(back->installers->files[i].sha256 == h.installers->files[i].sha256);
  }
  REQUIRE(back->installers->binaries().size() == 2);
  CHECK(back->installers->binaries()[1]->name == k_arm);
  CHECK(serialize_header(*back) == with);

  // A bad list makes the whole header unreadable, naming the key.
  nlohmann::json j = nlohmann::json::parse(with);
  j["installers"]["files"][0]["size"] = "big";
  auto refused = parse_header(as_bytes(j.dump()));
  REQUIRE_FALSE(refused.has_value());
  CHECK_THAT(refused.error().message(), Catch::Contains("header.installers"));
}

TEST_CASE("shipped installers: the list is parsed strictly", "[shipped]") {
  const nlohmann::json good = shipped_to_json(sample({k_x86, k_arm}, 2));
  REQUIRE(parse_shipped(good).has_value());
  REQUIRE(parse_shipped(shipped_to_json(sample({k_x86}, 1))).has_value());

  auto without = [&](const std::string& name) {
    nlohmann::json j = good;
    auto& files = j["files"];
    files.erase(std::remove_if(files.begin(), files.end(), [&](const nlohmann::json& f) { return f["name"] == name; }),
                files.end());
    return j;
  };
  auto with_file = [&](const std::string& name, std::uint64_t size) {
    nlohmann::json j = good;
    j["files"].push_back({{"name", name}, {"size", size}, {"sha256", std::string(64, '1')}});
    return j;
  };
  expect_installers_refused(without(k_x86 + ".2.sig"), "airlock-installer-linux-x86_64.2.sig is missing");
  expect_installers_refused(without("publisher.2.pem"), "publisher.2.pem is missing");
  expect_installers_refused(without("README.txt"), "README.txt is missing");
  expect_installers_refused(without("SHA256SUMS"), "SHA256SUMS is missing");
  expect_installers_refused(with_file(k_x86 + ".3.sig", 64), "does not belong");
  expect_installers_refused(with_file("publisher.3.pem", 100), "does not belong");
  expect_installers_refused(with_file("notes.txt", 10), "not a shipped-installer file name");
  expect_installers_refused(with_file("../evil", 10), "not a shipped-installer file name");
  expect_installers_refused(with_file(k_x86, 1000), "listed twice");
  {
    // The x86 binary gone from the list, its signatures still in it.
    expect_installers_refused(without(k_x86), "does not belong to the listed binaries");
  }
  {
    nlohmann::json j = good;
    for (auto& f : j["files"]) {
      if (f["name"] == k_arm + ".sig") f["size"] = std::uint64_t{65};
    }
    expect_installers_refused(j, "size 65 is out of range");
  }
  {
    nlohmann::json j = good;
    j["files"][0]["size"] = k_max_shipped_binary_size + 1;
    expect_installers_refused(j, "out of range");
  }
  {
    nlohmann::json j = good;
    j["files"][0]["sha256"] = std::string(64, 'A');
    expect_installers_refused(j, "sha256 must be 64 lowercase hex");
  }
  {
    nlohmann::json j = good;
    j["files"][0]["mode"] = 493;
    expect_installers_refused(j, "exactly 'name', 'size' and 'sha256'");
  }
  {
    nlohmann::json j = good;
    j["extra"] = true;
    expect_installers_refused(j, "exactly 'signers' and 'files'");
  }
  {
    nlohmann::json j = good;
    j["signers"][1] = j["signers"][0];
    expect_installers_refused(j, "listed twice");
  }
  {
    nlohmann::json j = good;
    j["signers"][0] = "not-a-key-id";
    expect_installers_refused(j, "key ids");
  }
  {
    nlohmann::json j = good;
    j["signers"] = nlohmann::json::array();
    expect_installers_refused(j, "1 to 32 key ids");
  }
  {
    nlohmann::json j = shipped_to_json(sample({}, 1));
    expect_installers_refused(j, "lists 0 binaries");
  }
  expect_installers_refused(nlohmann::json::array(), "must be an object");
}

TEST_CASE("pem: an Ed25519 public key in the RFC 8410 SubjectPublicKeyInfo form", "[crypto][pem]") {
  // RFC 8410 §10.1: the example public key and its PEM.
  auto raw = from_hex("19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1");
  REQUIRE(raw.has_value());
  crypto::SignPublicKey key{};
  std::copy(raw->begin(), raw->end(), key.begin());
  auto pem = crypto::ed25519_public_key_pem(key);
  REQUIRE(pem.has_value());
  CHECK(*pem ==
        "-----BEGIN PUBLIC KEY-----\n"
        "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
        "-----END PUBLIC KEY-----\n");
}

}  // namespace airlock::format
