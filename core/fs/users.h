#pragma once
// User names without NSS.
//
// The static installer cannot call getpwuid(): in a statically linked glibc
// program it would dlopen the libnss_*.so of whatever glibc the machine has,
// or find none at all (an empty chroot, a foreign distribution). The names
// are only for people to read (the ledger's "who", a refusal that names the
// owner of a file), so /etc/passwd is read directly, and where it holds no
// usable entry the numeric uid stands in. A user known only to LDAP or SSSD
// therefore appears as a uid. Nothing here prints, throws or fails: every
// problem with the file means "no name".

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace airlock::fs {

// A larger file is not read at all (no name); real ones are a few KiB.
inline constexpr std::uint64_t k_passwd_max_size = 16ull << 20;

// The name of `uid` in passwd(5) text, one "name:password:uid:gid:gecos:home:shell"
// per line: the first line with exactly seven fields whose uid field is
// `uid` in plain decimal (no sign, space or leading zero) and whose name is
// a portable user name (1 to 32 of [A-Za-z0-9._-], not starting with '-',
// optionally ending in '$'), and which holds no control character (CR,
// escape, NUL) anywhere. Every other line (comments, NIS "+" entries) is
// skipped, never repaired. nullopt when no line
// qualifies.
std::optional<std::string> user_name_in_passwd(std::string_view text, std::uint32_t uid);

// The same, read from `passwd_file`, which must be a regular file (a symlink
// to one is followed; a FIFO or device is not read) of at most
// k_passwd_max_size bytes. nullopt when it is missing, unreadable, not
// regular, too large or names no such user.
std::optional<std::string> lookup_user_name(std::uint32_t uid, const std::filesystem::path& passwd_file = "/etc/passwd");

// lookup_user_name(uid), or the uid in decimal when there is no name.
std::string user_name_or_uid(std::uint32_t uid);

}  // namespace airlock::fs
