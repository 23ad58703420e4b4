#include "installer/targets/layout.h"

#include <sys/stat.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace airlock::installer {
namespace {

namespace stdfs = std::filesystem;

ino_t inode_of(const stdfs::path& p) {
  struct ::stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_ino;
}

TEST_CASE("layout: make_dirs is idempotent, remove_path takes what is there and nothing else", "[layout]") {
  test::TempDir dir;
  const stdfs::path d = dir.path() / "a" / "b";
  REQUIRE(layout::make_dirs(d).has_value());
  REQUIRE(layout::make_dirs(d).has_value());
  CHECK(stdfs::is_directory(d));

  CHECK(layout::remove_path(dir.path() / "nothing").has_value());
  test::write_text(d / "f", "x");
  REQUIRE(layout::remove_path(d / "f").has_value());
  CHECK_FALSE(stdfs::exists(d / "f"));

  // A symlink goes, what it points at stays.
  test::write_text(dir.path() / "target", "keep");
  stdfs::create_symlink(dir.path() / "target", d / "link");
  REQUIRE(layout::remove_path(d / "link").has_value());
  CHECK_FALSE(stdfs::exists(stdfs::symlink_status(d / "link")));
  CHECK(test::read_text(dir.path() / "target") == "keep");

  test::write_text(d / "sub" / "deep" / "f", "x");
  REQUIRE(layout::remove_path(dir.path() / "a").has_value());
  CHECK_FALSE(stdfs::exists(dir.path() / "a"));
}

TEST_CASE("layout: link_file hardlinks, replaces what was there, and does nothing when done", "[layout]") {
  test::TempDir dir;
  const stdfs::path src = dir.path() / "blob";
  test::write_text(src, "weights");
  const stdfs::path dst = dir.path() / "view" / "model.safetensors";
  REQUIRE(layout::make_dirs(dst.parent_path()).has_value());
  test::write_text(dst, "an older file");
  REQUIRE(layout::link_file(src, dst).has_value());
  CHECK(inode_of(dst) == inode_of(src));
  CHECK(test::read_text(dst) == "weights");
  REQUIRE(layout::link_file(src, dst).has_value());
  CHECK(inode_of(dst) == inode_of(src));
  CHECK(stdfs::hard_link_count(src) == 2);
}

TEST_CASE("layout: write_text writes atomically and leaves a file that already says it alone", "[layout]") {
  test::TempDir dir;
  const stdfs::path p = dir.path() / "refs" / "main";
  REQUIRE(layout::make_dirs(p.parent_path()).has_value());
  REQUIRE(layout::write_text(p, "abc123").has_value());
  CHECK(test::read_text(p) == "abc123");
  const ino_t before = inode_of(p);
  REQUIRE(layout::write_text(p, "abc123").has_value());
  CHECK(inode_of(p) == before);  // not rewritten
  REQUIRE(layout::write_text(p, "def456").has_value());
  CHECK(test::read_text(p) == "def456");
  CHECK(inode_of(p) != before);  // a new file renamed over the old one
  for (const auto& e : stdfs::directory_iterator(p.parent_path())) {
    CHECK(e.path().filename() == "main");  // no temporary left beside it
  }
}

}  // namespace
}  // namespace airlock::installer
