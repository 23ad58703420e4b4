#pragma once
// ASCII text helpers for parsers of protocol text (HTTP headers, deb822,
// requirements files, HTML anchors): locale-free, unlike <cctype>.

#include <cstddef>
#include <string>
#include <string_view>

namespace airlock::text {

constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
constexpr bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = to_lower(c);
  }
  return out;
}

constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// One or more hex digits, either case.
constexpr bool is_hex(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

// Exactly len lowercase hex digits (any non-zero length when len is 0).
constexpr bool is_lower_hex(std::string_view s, std::size_t len = 0) {
  if (len != 0 ? s.size() != len : s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// "127.0.0.1:5000", "localhost", "[::1]:5000": 127.0.0.0/8 as a dotted
// quad, localhost or ::1. The bundler's plain-http policy and the
// installer's publish share it.
constexpr bool host_is_loopback(std::string_view host_port) {
  std::string_view host = host_port;
  if (host == "::1") {
    return true;
  }
  if (host.starts_with('[')) {
    const std::size_t close = host.find(']');
    return close != std::string_view::npos && host.substr(1, close - 1) == "::1";
  }
  host = host.substr(0, host.find(':'));
  if (host == "localhost") {
    return true;
  }
  if (!host.starts_with("127.")) {
    return false;
  }
  int dots = 0;
  for (char ch : host) {
    if (ch == '.') {
      ++dots;
    } else if (ch < '0' || ch > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace airlock::text
