#include "bundler/ship_installers.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include <catch2/catch.hpp>

#include "core/crypto/pem.h"
#include "core/crypto/sha256.h"
#include "tests/support/temp_dir.h"

namespace airlock::bundler {
namespace {

namespace stdfs = std::filesystem;

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  put16(b, at, static_cast<std::uint16_t>(v));
  put16(b, at + 2, static_cast<std::uint16_t>(v >> 16));
}

// The smallest file read_elf accepts: an ELF header and `phnum` program
// headers of type `ptype`, then some padding.
Bytes make_elf(std::uint16_t machine, std::uint32_t ptype = 1, std::uint16_t phnum = 1) {
  Bytes b(64 + 56 * phnum + 64, 0);
  std::memcpy(b.data(), "\x7f" "ELF", 4);
  b[4] = 2;  // 64-bit
  b[5] = 1;  // little-endian
  b[6] = 1;  // EV_CURRENT
  put16(b, 16, 2);  // ET_EXEC
  put16(b, 18, machine);
  put32(b, 20, 1);
  b[32] = 64;  // e_phoff
  put16(b, 54, 56);
  put16(b, 56, phnum);
  for (std::uint16_t i = 0; i < phnum; ++i) {
    put32(b, 64 + 56 * i, ptype);
  }
  return b;
}

void write(const stdfs::path& p, ByteSpan bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// DIR/airlock-installer-linux-{x86_64,aarch64} as the release build makes them.
void make_dist(const stdfs::path& dir) {
  stdfs::create_directories(dir);
  write(dir / "airlock-installer-linux-x86_64", make_elf(k_elf_machine_x86_64));
  write(dir / "airlock-installer-linux-aarch64", make_elf(k_elf_machine_aarch64));
}

format::Signer make_signer(crypto::SignPublicKey& pub) {
  format::Signer s;
  crypto::ed25519_keypair(pub, s.secret);
  s.keyid = crypto::sha256_hex(pub).substr(0, 16);
  return s;
}

void expect_refused(const stdfs::path& dir, const std::string& says) {
  auto loaded = load_installers(dir);
  REQUIRE_FALSE(loaded.has_value());
  CHECK(loaded.error().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(loaded.error().message(), Catch::Contains(says));
}

void flip(const stdfs::path& p, std::size_t at) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(at));
  f.put(static_cast<char>(c ^ 0xff));
}

}  // namespace

TEST_CASE("read_elf: the machine of a 64-bit little-endian executable, and whether it is dynamic", "[ship]") {
  auto x86 = read_elf(make_elf(k_elf_machine_x86_64), "a");
  REQUIRE(x86.has_value());
  CHECK(x86->machine == k_elf_machine_x86_64);
  CHECK_FALSE(x86->dynamic);
  auto arm = read_elf(make_elf(k_elf_machine_aarch64, 1, 3), "a");
  REQUIRE(arm.has_value());
  CHECK(arm->machine == k_elf_machine_aarch64);
  auto dyn = read_elf(make_elf(k_elf_machine_x86_64, 3), "a");  // PT_INTERP
  REQUIRE(dyn.has_value());
  CHECK(dyn->dynamic);

  auto refused = [](Bytes b, const std::string& says) {
    auto r = read_elf(b, "dist/x");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(r.error().message(), Catch::Contains("dist/x") && Catch::Contains(says));
  };
  const std::string script = "#!/bin/sh\necho not an installer\n" + std::string(100, ' ');
  refused(Bytes(script.begin(), script.end()), "not an ELF");
  refused(Bytes(10, 0x7f), "not an ELF");
  Bytes b = make_elf(k_elf_machine_x86_64);
  b[4] = 1;
  refused(b, "not a 64-bit");
  b = make_elf(k_elf_machine_x86_64);
  b[5] = 2;
  refused(b, "not a little-endian");
  b = make_elf(k_elf_machine_x86_64);
  put16(b, 16, 1);  // ET_REL: an object file
  refused(b, "not an executable");
  b = make_elf(k_elf_machine_x86_64);
  put16(b, 56, 200);  // program headers past the end
  refused(b, "program headers");
  b = make_elf(k_elf_machine_x86_64);
  b.resize(100);
  refused(b, "program headers");
}

TEST_CASE("load_installers refuses a bad DIR, naming it and what is wrong", "[ship]") {
  test::TempDir tmp("ship");
  const stdfs::path dist = tmp.path() / "dist";
  expect_refused(dist, "no such directory");
  write(tmp.path() / "file", make_elf(k_elf_machine_x86_64));
  expect_refused(tmp.path() / "file", "not a directory");

  make_dist(dist);
  auto ok = load_installers(dist);
  REQUIRE(ok.has_value());
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[0].name == "airlock-installer-linux-x86_64");
  CHECK((*ok)[1].arch == "aarch64");
  CHECK((*ok)[1].bytes == make_elf(k_elf_machine_aarch64));

  SECTION("a binary missing") {
    stdfs::remove(dist / "airlock-installer-linux-aarch64");
    expect_refused(dist, "airlock-installer-linux-aarch64 is missing");
  }
  SECTION("a symlink") {
    stdfs::rename(dist / "airlock-installer-linux-x86_64", tmp.path() / "real");
    stdfs::create_symlink(tmp.path() / "real", dist / "airlock-installer-linux-x86_64");
    expect_refused(dist, "airlock-installer-linux-x86_64");
    auto loaded = load_installers(dist);
    CHECK_THAT(loaded.error().message(), Catch::Contains("symbolic link") || Catch::Contains("symlink"));
  }
  SECTION("not a regular file") {
    stdfs::remove(dist / "airlock-installer-linux-x86_64");
    stdfs::create_directory(dist / "airlock-installer-linux-x86_64");
    expect_refused(dist, "airlock-installer-linux-x86_64");
    REQUIRE(::mkfifo((dist / "fifo").c_str(), 0600) == 0);
    stdfs::remove(dist / "airlock-installer-linux-x86_64");
    stdfs::rename(dist / "fifo", dist / "airlock-installer-linux-x86_64");
    expect_refused(dist, "airlock-installer-linux-x86_64");  // refused, not hung on
  }
  SECTION("the two swapped") {
    stdfs::rename(dist / "airlock-installer-linux-x86_64", dist / "t");
    stdfs::rename(dist / "airlock-installer-linux-aarch64", dist / "airlock-installer-linux-x86_64");
    stdfs::rename(dist / "t", dist / "airlock-installer-linux-aarch64");
    expect_refused(dist, "built for AArch64, but the name says x86_64");
  }
  SECTION("not an ELF") {
    write(dist / "airlock-installer-linux-aarch64", as_bytes(std::string_view("#!/bin/sh\nexit 0\n")));
    expect_refused(dist, "airlock-installer-linux-aarch64: not an installer binary: not an ELF");
  }
}

TEST_CASE("shipped installers: staged, listed, and checked by verify's check", "[ship][shipped]") {
  test::TempDir tmp("ship");
  const stdfs::path dist = tmp.path() / "dist";
  const stdfs::path out = tmp.path() / "out";
  make_dist(dist);
  stdfs::create_directories(out);
  crypto::SignPublicKey pub1{}, pub2{};
  std::vector<format::Signer> signers = {make_signer(pub1), make_signer(pub2)};
  auto bins = load_installers(dist);
  REQUIRE(bins.has_value());
  auto shipped = stage_installers(*bins, signers, out, ReadmeFacts{"demo", "1.0.0", "demo-1.0.0.airlock"});
  REQUIRE(shipped.has_value());
  CHECK(shipped->signers == std::vector<std::string>{signers[0].keyid, signers[1].keyid});
  CHECK(shipped->files.size() == 2 + 4 + 2 + 2);
  for (const format::ShippedFile& f : shipped->files) {
    CHECK(stdfs::file_size(out / f.name) == f.size);
  }
  CHECK((stdfs::status(out / "airlock-installer-linux-x86_64").permissions() & stdfs::perms::owner_exec) !=
        stdfs::perms::none);
  // The .pem is the key's, the signature is Ed25519 over the binary's bytes.
  std::ifstream pem_in(out / "publisher.2.pem");
  std::string pem((std::istreambuf_iterator<char>(pem_in)), std::istreambuf_iterator<char>());
  CHECK(pem == crypto::ed25519_public_key_pem(pub2).value());
  std::ifstream sums_in(out / "SHA256SUMS");
  std::string sums((std::istreambuf_iterator<char>(sums_in)), std::istreambuf_iterator<char>());
  CHECK_THAT(sums, Catch::Contains(crypto::sha256_hex(make_elf(k_elf_machine_x86_64)) +
                                   "  airlock-installer-linux-x86_64\n"));
  CHECK_THAT(sums, Catch::Contains("  README.txt\n"));
  std::ifstream readme_in(out / "README.txt");
  std::string readme((std::istreambuf_iterator<char>(readme_in)), std::istreambuf_iterator<char>());
  CHECK_THAT(readme, Catch::Contains("openssl pkeyutl -verify -pubin -inkey publisher.2.pem -rawin -in "
                                     "airlock-installer-linux-aarch64 -sigfile airlock-installer-linux-aarch64.2.sig"));
  CHECK_THAT(readme, Catch::Contains("must print " + signers[1].keyid));
  CHECK_THAT(readme, Catch::Contains("uname -m"));

  const std::vector<crypto::SignPublicKey> both = {pub1, pub2};
  auto ok = format::check_shipped_installers(out, shipped.value(), both);
  REQUIRE(ok.has_value());
  CHECK(ok->files == 10);
  CHECK(ok->signatures_verified == 4);
  CHECK(ok->signatures_unchecked == 0);
  auto one_key = format::check_shipped_installers(out, shipped.value(), {pub1});
  REQUIRE(one_key.has_value());
  CHECK(one_key->signatures_verified == 2);
  CHECK(one_key->signatures_unchecked == 2);

  auto refused = [&](const std::string& says, ErrorCode code = ErrorCode::kCorruption) {
    auto r = format::check_shipped_installers(out, shipped.value(), both);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == code);
    CHECK_THAT(r.error().message(), Catch::Contains(says));
  };
  SECTION("a flipped byte in a binary") {
    flip(out / "airlock-installer-linux-aarch64", 70);
    refused("airlock-installer-linux-aarch64: SHA-256 mismatch");
  }
  SECTION("a flipped byte in a signature") {
    flip(out / "airlock-installer-linux-x86_64.2.sig", 3);
    refused("airlock-installer-linux-x86_64.2.sig: SHA-256 mismatch");
  }
  SECTION("a binary missing, and another truncated: both named") {
    stdfs::remove(out / "airlock-installer-linux-x86_64");
    stdfs::resize_file(out / "airlock-installer-linux-aarch64", 50);
    refused("airlock-installer-linux-x86_64: listed in the signed index but missing");
    refused("airlock-installer-linux-aarch64: 50 bytes, the signed index says");
  }
  SECTION("a binary replaced by a symlink to an identical copy") {
    stdfs::rename(out / "airlock-installer-linux-x86_64", tmp.path() / "copy");
    stdfs::create_symlink(tmp.path() / "copy", out / "airlock-installer-linux-x86_64");
    refused("airlock-installer-linux-x86_64: refused");
  }
  SECTION("an unlisted file of ours") {
    write(out / "airlock-installer-linux-riscv64", make_elf(243));
    refused("airlock-installer-linux-riscv64: not listed in the signed index");
  }
  SECTION("a signature that does not verify, though listed with its hash (a forged list)") {
    format::ShippedInstallers forged = *shipped;
    crypto::Signature bad = crypto::ed25519_sign(as_bytes(std::string_view("other bytes")), signers[0].secret);
    write(out / "airlock-installer-linux-aarch64.sig", bad);
    for (format::ShippedFile& f : forged.files) {
      if (f.name == "airlock-installer-linux-aarch64.sig") f.sha256 = crypto::sha256_hex(bad);
    }
    auto r = format::check_shipped_installers(out, forged, both);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kBadSignature);
    CHECK_THAT(r.error().message(), Catch::Contains("airlock-installer-linux-aarch64.sig: signature by key " +
                                                    signers[0].keyid + " does not verify"));
  }
  SECTION("another key's .pem, though listed with its hash (a forged list)") {
    format::ShippedInstallers forged = *shipped;
    crypto::SignPublicKey other{};
    (void)make_signer(other);
    const std::string pem2 = crypto::ed25519_public_key_pem(other).value();
    write(out / "publisher.pem", as_bytes(pem2));
    for (format::ShippedFile& f : forged.files) {
      if (f.name == "publisher.pem") {
        f.sha256 = crypto::sha256_hex(as_bytes(pem2));
        f.size = pem2.size();
      }
    }
    auto r = format::check_shipped_installers(out, forged, both);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::Contains("publisher.pem: is not the public key of signer"));
  }
  SECTION("a bundle without the list vouches for none of them") {
    auto r = format::check_shipped_installers(out, std::nullopt, both);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(r.error().message(), Catch::Contains("airlock-installer-linux-x86_64: not listed") &&
                                        Catch::Contains("publisher.2.pem: not listed"));
    test::TempDir empty("ship");
    CHECK(format::check_shipped_installers(empty.path(), std::nullopt, both).has_value());
  }
}

TEST_CASE("stage_installers refuses the same --sign key twice", "[ship]") {
  test::TempDir tmp("ship");
  make_dist(tmp.path() / "dist");
  crypto::SignPublicKey pub{};
  format::Signer s = make_signer(pub);
  auto bins = load_installers(tmp.path() / "dist");
  REQUIRE(bins.has_value());
  auto r = stage_installers(*bins, {s, s}, tmp.path(), ReadmeFacts{"demo", "1", "demo-1.airlock"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kUsage);
  CHECK_THAT(r.error().message(), Catch::Contains("given twice"));
}

}  // namespace airlock::bundler
