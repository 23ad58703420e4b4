#include "installer/targets/targets.h"

#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "installer/site/os.h"
#include "installer/targets/internal.h"
#include "tests/support/temp_dir.h"

namespace airlock::installer {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_CASE("targets: the Target table is site.h's k_target_names, in rebuild order", "[targets]") {
  auto table = targets_internal::all_targets();
  REQUIRE(table.size() == k_target_names.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    CHECK(table[i]->name() == k_target_names[i]);
  }
  CHECK(table[0]->name() == "hf");  // the crash_point("targets") test step comes after it
}

TEST_CASE("targets: messages and the dirty mark name every target folder", "[targets]") {
  CHECK(target_dirs_text() == "ROOT/hf, ROOT/images, ROOT/apt and ROOT/wheels");
  CHECK(targets_retry_text(Error(ErrorCode::kIOError, "disk full")) ==
        "rebuilding ROOT/hf, ROOT/images, ROOT/apt and ROOT/wheels failed: disk full; ROOT/targets.dirty stays and "
        "the next airlock-installer command retries (fix the cause, or run 'airlock-installer targets')");

  test::TempDir dir;
  SystemOs system;
  auto site = Site::init(dir.path() / "root", system.os());
  REQUIRE(site.has_value());
  CHECK_FALSE(targets_dirty(**site));
  REQUIRE(mark_targets_dirty(**site).has_value());
  CHECK(targets_dirty(**site));
  CHECK(read_all(dir.path() / "root" / "targets.dirty") == "rebuild ROOT/hf, images, apt, wheels\n");
  REQUIRE(clear_targets_dirty(**site).has_value());
  CHECK_FALSE(targets_dirty(**site));
}

TEST_CASE("targets: git_blob_sha1 is git's blob id", "[targets]") {
  test::TempDir dir;
  {
    std::ofstream(dir.path() / "hello") << "hello\n";
    std::ofstream(dir.path() / "empty");
  }
  CHECK(git_blob_sha1(dir.path() / "hello").value() == "ce013625030ba8dba906f756967f9e9ca394464a");
  CHECK(git_blob_sha1(dir.path() / "empty").value() == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  auto missing = git_blob_sha1(dir.path() / "missing");
  REQUIRE_FALSE(missing.has_value());
  CHECK_THAT(missing.error().message(), Catch::Contains("missing"));
}

TEST_CASE("a local model's synthetic commit depends on its files only", "[targets]") {
  const std::string a = local_model_commit({{"config.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'b')}});
  const std::string b = local_model_commit({{"w.safetensors", std::string(64, 'b')}, {"config.json", std::string(64, 'a')}});
  CHECK(a == b);  // order does not matter
  CHECK(a.size() == 40);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != local_model_commit({{"config.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'c')}}));
  CHECK(a != local_model_commit({{"config2.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'b')}}));
}

}  // namespace
}  // namespace airlock::installer
