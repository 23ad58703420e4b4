#include "core/fs/users.h"

#include <array>
#include <charconv>
#include <vector>

#include "core/fs/file.h"

namespace airlock::fs {

namespace {

bool is_portable_user_name(std::string_view name) {
  if (name.empty() || name.size() > 32 || name.front() == '-') {
    return false;
  }
  if (name.back() == '$') {  // Samba machine accounts
    name.remove_suffix(1);
    if (name.empty()) {
      return false;
    }
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Plain decimal only: "0", or digits without a leading zero, within 32 bits.
std::optional<std::uint32_t> parse_uid(std::string_view s) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s.front() == '0')) {
    return std::nullopt;
  }
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

bool has_control_character(std::string_view line) {
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return true;
    }
  }
  return false;
}

// Splits one line at ':' into exactly seven fields, or fails.
bool split_fields(std::string_view line, std::array<std::string_view, 7>& fields) {
  std::size_t n = 0;
  while (true) {
    const std::size_t colon = line.find(':');
    if (n == fields.size()) {
      return false;
    }
    fields[n++] = line.substr(0, colon);
    if (colon == std::string_view::npos) {
      break;
    }
    line.remove_prefix(colon + 1);
  }
  return n == fields.size();
}

}  // namespace

std::optional<std::string> user_name_in_passwd(std::string_view text, std::uint32_t uid) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::array<std::string_view, 7> f{};
    if (has_control_character(line) || !split_fields(line, f)) {
      continue;
    }
    const std::optional<std::uint32_t> line_uid = parse_uid(f[2]);
    if (line_uid && *line_uid == uid && is_portable_user_name(f[0])) {
      return std::string(f[0]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> lookup_user_name(std::uint32_t uid, const std::filesystem::path& passwd_file) {
  auto file = File::open_regular(passwd_file, File::Symlinks::kFollow);
  if (!file) {
    return std::nullopt;
  }
  // Read to the end rather than trusting the size: the file may change under us.
  std::string text;
  std::vector<std::uint8_t> buf(64 * 1024);
  while (true) {
    auto n = file->read_some(buf);
    if (!n) {
      return std::nullopt;
    }
    if (*n == 0) {
      break;
    }
    if (text.size() + *n > k_passwd_max_size) {
      return std::nullopt;
    }
    text.append(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  return user_name_in_passwd(text, uid);
}

std::string user_name_or_uid(std::uint32_t uid) {
  if (std::optional<std::string> name = lookup_user_name(uid)) {
    return *std::move(name);
  }
  return std::to_string(uid);
}

}  // namespace airlock::fs
