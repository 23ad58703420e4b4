#pragma once
// ASCII text helpers for parsers of protocol text (HTTP headers, deb822,
// requirements files, HTML anchors): locale-free, unlike <cctype>.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// The words of s: the runs of characters not in `separators` (by default
// is_space's), in order; none when s is only separators.
inline std::vector<std::string_view> split_words(std::string_view s,
                                                 std::string_view separators = " \t\r\n\f\v") {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while ((i = s.find_first_not_of(separators, i)) != std::string_view::npos) {
    const std::size_t j = std::min(s.find_first_of(separators, i), s.size());
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Renders bytes that came from outside (media, a ledger row, a child's
// output) as text that is safe on a terminal and on one log line: printable
// ASCII and well-formed UTF-8 pass through; C0 controls (TAB, CR and LF too),
// DEL, C1 controls (U+0080..U+009F), and every byte that is not part of
// well-formed UTF-8 become \xNN, one per byte; the Unicode line separators
// and bidirectional overrides (U+2028/2029, U+202A..202E, U+2066..2069),
// which reorder or break what a reader sees, become \u{NNNN}. Nothing in
// the result can move the cursor, change colours or start a new line. The
// escape is not reversible (a literal "\x1b" reads the same); it is for
// display, not for round trips.
inline std::string escape_untrusted(std::string_view s) {
  constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  auto escape_byte = [&](unsigned char b) {
    out += "\\x";
    out += k_hex[b >> 4];
    out += k_hex[b & 0xf];
  };
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7f) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    if (b < 0x80) {  // C0 control or DEL
      escape_byte(b);
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length, the first continuation byte's range
    // (which rules out overlong forms, surrogates and > U+10FFFF).
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      lo = b == 0xe0 ? 0xa0 : 0x80;
      hi = b == 0xed ? 0x9f : 0xbf;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      lo = b == 0xf0 ? 0x90 : 0x80;
      hi = b == 0xf4 ? 0x8f : 0xbf;
    }
    bool well_formed = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; well_formed && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      well_formed = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xbf);
    }
    if (!well_formed) {
      escape_byte(b);
      ++i;
      continue;
    }
    std::uint32_t cp = b & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    if (cp <= 0x9f) {  // C1 control: each of its bytes escaped
      for (std::size_t k = 0; k < len; ++k) {
        escape_byte(static_cast<unsigned char>(s[i + k]));
      }
    } else if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
      out += "\\u{";
      for (int shift = 12; shift >= 0; shift -= 4) {
        out += k_hex[(cp >> shift) & 0xf];
      }
      out += '}';
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
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
