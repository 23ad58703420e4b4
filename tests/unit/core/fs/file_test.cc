// core/fs/file.h: sha256_file and TempDir.
#include "core/fs/file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "core/crypto/sha256.h"
#include "tests/support/temp_dir.h"

namespace airlock::fs {
namespace {

namespace stdfs = std::filesystem;

TEST_CASE("sha256_file hashes the whole file, in pieces of any size", "[fs]") {
  test::TempDir tmp("fs-file");
  const stdfs::path p = tmp.path() / "data";
  std::string data;
  for (int i = 0; i < 5000; ++i) data += std::to_string(i) + ",";
  std::ofstream(p, std::ios::binary) << data;
  const std::string want = crypto::sha256_hex(as_bytes(data));
  CHECK(sha256_file(p).value() == want);
  Bytes small(7);  // many reads, the last one short
  CHECK(sha256_file(p, small).value() == want);
  std::ofstream(tmp.path() / "empty", std::ios::binary);
  CHECK(sha256_file(tmp.path() / "empty").value() == crypto::sha256_hex({}));
  auto missing = sha256_file(tmp.path() / "missing");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message().find("missing") != std::string::npos);
}

TEST_CASE("TempDir is fresh, and goes away with what is in it", "[fs]") {
  test::TempDir tmp("fs-tempdir");
  stdfs::path kept;
  {
    auto a = TempDir::create(tmp.path(), "x.");
    auto b = TempDir::create(tmp.path(), "x.");
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->path() != b->path());
    CHECK(a->path().filename().string().starts_with("x."));
    CHECK(a->path().parent_path() == tmp.path());
    stdfs::create_directories(a->path() / "sub");
    std::ofstream(a->path() / "sub/f") << "x";
    stdfs::permissions(a->path() / "sub", stdfs::perms(0555));  // read-only inside
    TempDir moved = std::move(*a);
    kept = moved.path();
    CHECK(stdfs::exists(kept / "sub/f"));
  }
  CHECK_FALSE(stdfs::exists(kept));
  CHECK(stdfs::is_empty(tmp.path()));
  auto bad = TempDir::create(tmp.path() / "no/such/dir", "x.");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message().find("cannot create") != std::string::npos);
}

}  // namespace
}  // namespace airlock::fs
