#include "tools/gen_docs/roff.h"

#include <cstdint>

#include <fmt/core.h>

namespace airlock::gendocs::roff {

namespace {

enum class Mode { kText, kLiteral };

// Decodes one UTF-8 sequence at s[i] (advancing i); U+FFFD for a bad one.
std::uint32_t decode_utf8(std::string_view s, std::size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int len = b >= 0xF0 && b < 0xF8 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  std::uint32_t cp = b & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((c & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

std::string escape(std::string_view s, Mode mode) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      out += fmt::format("\\[u{:04X}]", decode_utf8(s, i));
      continue;
    }
    ++i;
    if (c == '\\') {
      out += "\\e";
    } else if (mode == Mode::kLiteral && c == '-') {
      out += "\\-";
    } else if (mode == Mode::kLiteral && c == '\'') {
      out += "\\(aq";
    } else if (mode == Mode::kLiteral && c == '`') {
      out += "\\(ga";
    } else if (c == '\t') {
      out += ' ';
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) {
      out += c;
    } else if (c == '\n') {
      out += '\n';
    }
  }
  return out;
}

}  // namespace

std::string text(std::string_view s) { return escape(s, Mode::kText); }

std::string literal(std::string_view s) { return escape(s, Mode::kLiteral); }

std::string line(std::string_view escaped) {
  if (!escaped.empty() && (escaped.front() == '.' || escaped.front() == '\'')) {
    return "\\&" + std::string(escaped);
  }
  return std::string(escaped);
}

std::string quoted(std::string_view escaped) {
  std::string out = "\"";
  for (char c : escaped) {
    out += c == '"' ? std::string("\\(dq") : std::string(1, c);
  }
  return out + "\"";
}

}  // namespace airlock::gendocs::roff
