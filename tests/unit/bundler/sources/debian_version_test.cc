#include "bundler/sources/debian_version.h"

#include <string>

#include <catch2/catch.hpp>

namespace airlock::bundler::apt {
namespace {

int sign(int v) { return (v > 0) - (v < 0); }

struct Vector {
  const char* a;
  const char* b;
  int expected;
};

// dpkg's own comparison vectors (scripts/t/Dpkg_Version.t and Debian Policy
// §5.6.12's '~' example); each also checked against `dpkg --compare-versions`.
constexpr Vector k_vectors[] = {
    {"1.0-1", "2.0-2", -1},
    {"2.2~rc-4", "2.2-1", -1},
    {"2.2-1", "2.2~rc-4", 1},
    {"1.0000-1", "1.0-1", 0},
    {"1", "0:1", 0},
    {"0", "0:0-0", 0},
    {"2:2.5", "1:7.5", 1},
    {"1:0foo", "0foo", 1},
    {"0:0foo", "0foo", 0},
    {"0foo", "0foo", 0},
    {"0foo-0", "0foo", 0},
    {"0foo", "0foo-0", 0},
    {"0foo", "0fo", 1},
    {"0foo-0", "0foo+", -1},
    {"0foo~1", "0foo", -1},
    {"0foo~foo+Bar", "0foo~foo+bar", -1},
    {"0foo~~", "0foo~", -1},
    {"1~", "1", -1},
    {"12345+that-really-is-some-ver-0", "12345+that-really-is-some-ver-10", -1},
    {"0foo-0", "0foo-01", -1},
    {"0foo.bar", "0foobar", 1},
    {"0foo.bar", "0foo1bar", 1},
    {"0foo.bar", "0foo0bar", 1},
    {"0foo1bar-1", "0foobar-1", -1},
    {"0foo2.0", "0foo2", 1},
    {"0foo2.0.0", "0foo2.10.0", -1},
    {"0foo2.0", "0foo2.0.0", -1},
    {"0foo2.0", "0foo2.10", -1},
    {"0foo2.1", "0foo2.10", -1},
    {"1.09", "1.9", 0},
    {"1.0.8+nmu1", "1.0.8", 1},
    {"3.11", "3.10+nmu1", 1},
    {"0.9j-20080306-4", "0.9i-20070324-2", 1},
    {"1.2.0~b7-1", "1.2.0~b6-1", 1},
    {"1.011-1", "1.06-2", 1},
    {"0.0.9+dfsg1-1", "0.0.8+dfsg1-3", 1},
    {"4.6.99+svn6582-1", "4.6.99+svn6496-1", 1},
    {"53", "52", 1},
    {"0.9.9~pre122-1", "0.9.9~pre111-1", 1},
    {"2:2.3.2-2+lenny2", "2:2.3.2-2", 1},
    {"1:3.8.1-1", "3.8.GA-1", 1},
    {"1.0.1+gpl-1", "1.0.1-2", 1},
    {"1a", "1000a", -1},
    // Policy: "~~" < "~~a" < "~" < "" < "a"; letters sort before other characters.
    {"1.0~~", "1.0~~a", -1},
    {"1.0~~a", "1.0~", -1},
    {"1.0~", "1.0", -1},
    {"1.0", "1.0a", -1},
    {"1.0a", "1.0+", -1},
    {"1.0", "1.0-0", 0},
    {"7.6p2-4", "7.6-0", 1},
    {"1.0.0", "1.0", 1},
    {"12.4.127-1", "12.4.99-1", 1},
};

TEST_CASE("apt_version: dpkg's comparison vectors", "[apt][version]") {
  for (const Vector& v : k_vectors) {
    INFO(v.a << " vs " << v.b);
    CHECK(sign(compare_debian_versions(v.a, v.b)) == v.expected);
    CHECK(sign(compare_debian_versions(v.b, v.a)) == -v.expected);
  }
}

TEST_CASE("apt_version: epoch, upstream and revision split at the first ':' and the last '-'", "[apt][version]") {
  DebianVersion v = parse_debian_version("2:1.0-beta-3ubuntu1");
  CHECK(v.epoch == 2);
  CHECK(v.upstream == "1.0-beta");
  CHECK(v.revision == "3ubuntu1");
  DebianVersion plain = parse_debian_version("12.4.1");
  CHECK(plain.epoch == 0);
  CHECK(plain.upstream == "12.4.1");
  CHECK(plain.revision.empty());
}

TEST_CASE("apt_version: syntax check as dpkg's parseversion", "[apt][version]") {
  CHECK(is_valid_debian_version("1.0"));
  CHECK(is_valid_debian_version("1:2.3~rc1+dfsg-4ubuntu0.1"));
  CHECK_FALSE(is_valid_debian_version(""));
  CHECK_FALSE(is_valid_debian_version("a1.0"));       // must start with a digit
  CHECK_FALSE(is_valid_debian_version("x:1.0"));      // epoch not a number
  CHECK_FALSE(is_valid_debian_version("1.0-"));       // empty revision
  CHECK_FALSE(is_valid_debian_version("1.0 -1"));     // space
  CHECK_FALSE(is_valid_debian_version("1.0-a:b"));    // "1.0-a" read as an epoch
}

}  // namespace
}  // namespace airlock::bundler::apt

TEST_CASE("debian version: a NUL inside a version compares without looping (found by fuzz_sources)",
          "[apt]") {
  using namespace std::string_view_literals;
  CHECK(airlock::bundler::apt::compare_debian_versions("1\0"sv, "1\0"sv) == 0);
  CHECK(airlock::bundler::apt::compare_debian_versions("\0\0a"sv, "\0"sv) > 0);
}
