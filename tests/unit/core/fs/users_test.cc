#include "core/fs/users.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "core/fs/file.h"
#include "tests/support/temp_dir.h"

namespace airlock::fs {
namespace {

namespace stdfs = std::filesystem;

using namespace std::string_view_literals;

const stdfs::path k_fixture = stdfs::path(AIRLOCK_SOURCE_DIR) / "tests/fixtures/passwd";

std::string fixture_text() {
  auto text = read_text_file(k_fixture, k_passwd_max_size);
  REQUIRE(text);
  return *text;
}

TEST_CASE("users: the first well-formed entry for a uid gives its name", "[users]") {
  const std::string text = fixture_text();
  CHECK(user_name_in_passwd(text, 0) == "root");
  CHECK(user_name_in_passwd(text, 1) == "daemon");
  CHECK(user_name_in_passwd(text, 1000) == "operator");  // not "shadowed", the second 1000
  CHECK(user_name_in_passwd(text, 1010) == "a.name_of-thirty-two-characters$");
  CHECK(user_name_in_passwd(text, 1012) == "empty-fields");
  CHECK(user_name_in_passwd(text, 4294967295u) == "max");
  CHECK(user_name_in_passwd(text, 1014) == "last");  // no newline after the last line
}

TEST_CASE("users: malformed lines are skipped, never repaired", "[users]") {
  const std::string text = fixture_text();
  CHECK_FALSE(user_name_in_passwd(text, 1001));  // six fields
  CHECK_FALSE(user_name_in_passwd(text, 1002));  // eight fields
  CHECK_FALSE(user_name_in_passwd(text, 1003));  // "+1003"
  CHECK_FALSE(user_name_in_passwd(text, 1004));  // " 1004"
  CHECK_FALSE(user_name_in_passwd(text, 1005));  // "01005"
  CHECK_FALSE(user_name_in_passwd(text, 1006));  // name starts with '-'
  CHECK_FALSE(user_name_in_passwd(text, 1007));  // NIS "+nis"
  CHECK_FALSE(user_name_in_passwd(text, 1008));  // escape sequence in the name
  CHECK_FALSE(user_name_in_passwd(text, 1009));  // 33 characters
  CHECK_FALSE(user_name_in_passwd(text, 1011));  // "$" alone
  CHECK_FALSE(user_name_in_passwd(text, 1013));  // CR at the end of the line
  CHECK_FALSE(user_name_in_passwd(text, 4242));  // nobody
  // 4294967296 does not wrap around to 0 (root's line still answers 0).
  CHECK(user_name_in_passwd("toobig:x:4294967296:0::/:/bin/sh\n", 0) == std::nullopt);
  CHECK(user_name_in_passwd("", 0) == std::nullopt);
  CHECK(user_name_in_passwd("nul\0x:x:7:7::/:/bin/sh\n"sv, 7) == std::nullopt);
}

TEST_CASE("users: lookup reads a regular file, follows a symlink to one, and refuses the rest", "[users]") {
  test::TempDir tmp("users");
  CHECK(lookup_user_name(1000, k_fixture) == "operator");

  const stdfs::path link = tmp.path() / "link";
  stdfs::create_symlink(k_fixture, link);
  CHECK(lookup_user_name(1000, link) == "operator");

  CHECK_FALSE(lookup_user_name(0, tmp.path() / "missing"));
  CHECK_FALSE(lookup_user_name(0, tmp.path()));  // a directory

  const stdfs::path fifo = tmp.path() / "fifo";  // would block a reader that opened it blindly
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_FALSE(lookup_user_name(0, fifo));

  // Over the size cap: not read at all, even though the first line is root's.
  const stdfs::path big = tmp.path() / "big";
  {
    std::ofstream out(big, std::ios::binary);
    out << "root:x:0:0:root:/root:/bin/bash\n";
  }
  stdfs::resize_file(big, k_passwd_max_size + 1);
  CHECK_FALSE(lookup_user_name(0, big));
  stdfs::resize_file(big, k_passwd_max_size);
  CHECK(lookup_user_name(0, big) == "root");  // the cap itself is allowed (NUL padding is skipped)
}

TEST_CASE("users: no name falls back to the uid", "[users]") {
  // This process's own uid: its name when /etc/passwd has one, else the number.
  const std::string got = user_name_or_uid(::getuid());
  const auto name = lookup_user_name(::getuid());
  CHECK(got == (name ? *name : std::to_string(::getuid())));
  CHECK(user_name_or_uid(4123456789u) == "4123456789");
}

}  // namespace
}  // namespace airlock::fs
