#pragma once
// Debian version strings, compared as dpkg compares them (Debian Policy
// §5.6.12, dpkg's lib/dpkg/version.c): [EPOCH:]UPSTREAM[-REVISION]; the epoch
// numerically, then upstream and revision each by alternating runs of
// non-digits (letters before non-letters, '~' before everything, even the end
// of the string) and digits (numerically).

#include <cstdint>
#include <string>
#include <string_view>

namespace airlock::bundler::apt {

struct DebianVersion {
  std::uint64_t epoch = 0;
  std::string upstream;
  std::string revision;  // empty when the version has no '-'
};

// Splits without validating the characters; an epoch that is not a number
// makes the whole string the upstream part (dpkg would refuse it; we only
// ever compare, and comparing such a string as text is the safe reading).
DebianVersion parse_debian_version(std::string_view text);

// <0, 0, >0 as a sorts before, equal to, after b.
int compare_debian_versions(std::string_view a, std::string_view b);

// Syntax check as dpkg's parseversion does: non-empty, starts with a digit,
// only [A-Za-z0-9.+~-] in upstream (':' only with an epoch), [A-Za-z0-9.+~]
// in the revision.
bool is_valid_debian_version(std::string_view text);

}  // namespace airlock::bundler::apt
