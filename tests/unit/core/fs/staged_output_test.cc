// core/fs/staged_output.h: all or nothing, and nothing left on any path out.

#include "core/fs/staged_output.h"

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace airlock::fs {
namespace {

namespace stdfs = std::filesystem;

using test::write_text;

TEST_CASE("StagedOutput moves the files in, the last one last, and removes its staging folder", "[fs]") {
  test::TempDir tmp("staged");
  const stdfs::path out = tmp.path() / "a" / "b";
  {
    auto staged = StagedOutput::begin(out, ".tmp-1");
    REQUIRE(staged);
    CHECK(stdfs::is_directory(staged->staging()));
    write_text(staged->staging() / "v1.tar", "one");
    write_text(staged->staging() / "x.airlock", "index");
    REQUIRE(staged->commit({"v1.tar"}, "x.airlock"));
  }
  CHECK(stdfs::exists(out / "v1.tar"));
  CHECK(stdfs::exists(out / "x.airlock"));
  CHECK_FALSE(stdfs::exists(out / ".tmp-1"));
}

TEST_CASE("StagedOutput left without commit removes everything it made", "[fs]") {
  test::TempDir tmp("staged");
  const stdfs::path out = tmp.path() / "a" / "b";
  {
    auto staged = StagedOutput::begin(out, ".tmp-1");
    REQUIRE(staged);
    write_text(staged->staging() / "v1.tar", "one");
  }
  CHECK_FALSE(stdfs::exists(tmp.path() / "a"));
}

TEST_CASE("StagedOutput whose commit fails takes back what it moved and keeps others' files", "[fs]") {
  test::TempDir tmp("staged");
  const stdfs::path out = tmp.path() / "out";
  stdfs::create_directory(out);
  write_text(out / "mine.txt", "not the bundler's");
  {
    auto staged = StagedOutput::begin(out, ".tmp-1");
    REQUIRE(staged);
    write_text(staged->staging() / "v1.tar", "one");
    Status st = staged->commit({"v1.tar", "v2.tar"}, "x.airlock");  // v2.tar was never written
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == ErrorCode::kIOError);
    CHECK(st.error().message().starts_with("v2.tar: cannot move into place"));
  }
  CHECK_FALSE(stdfs::exists(out / "v1.tar"));
  CHECK_FALSE(stdfs::exists(out / ".tmp-1"));
  CHECK(stdfs::exists(out / "mine.txt"));
}

TEST_CASE("StagedOutput names the folder it cannot create", "[fs]") {
  test::TempDir tmp("staged");
  write_text(tmp.path() / "file", "x");
  auto staged = StagedOutput::begin(tmp.path() / "file" / "out", ".tmp-1");
  REQUIRE_FALSE(staged);
  CHECK(staged.error().code() == ErrorCode::kIOError);
  CHECK(staged.error().message().find("file/out: cannot create") != std::string::npos);
}

}  // namespace
}  // namespace airlock::fs
