#include "core/base/text.h"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

namespace airlock::text {
namespace {

TEST_CASE("escape_untrusted: printable ASCII and well-formed UTF-8 pass", "[base][text]") {
  CHECK(escape_untrusted("llama-3.1 8b/2024.07+r1: ok") == "llama-3.1 8b/2024.07+r1: ok");
  CHECK(escape_untrusted("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x94\x91") == "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x94\x91");
  CHECK(escape_untrusted("back\\slash") == "back\\slash");
  CHECK(escape_untrusted("").empty());
}

TEST_CASE("escape_untrusted: C0 controls, ESC, DEL become hex escapes", "[base][text]") {
  CHECK(escape_untrusted("\x1b[2K\rinstalled\n") == "\\x1b[2K\\x0dinstalled\\x0a");
  CHECK(escape_untrusted(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(escape_untrusted("\t\x7f\x07") == "\\x09\\x7f\\x07");
}

TEST_CASE("escape_untrusted: C1 controls and malformed UTF-8 become a hex escape per byte", "[base][text]") {
  CHECK(escape_untrusted("\xc2\x9b" "2J") == "\\xc2\\x9b2J");        // CSI as U+009B
  CHECK(escape_untrusted("\xc2\x85") == "\\xc2\\x85");               // NEL
  CHECK(escape_untrusted("\x9b" "31m") == "\\x9b31m");               // a lone 8-bit CSI
  CHECK(escape_untrusted("\xff\xfe") == "\\xff\\xfe");
  CHECK(escape_untrusted("\xc0\xaf") == "\\xc0\\xaf");               // overlong '/'
  CHECK(escape_untrusted("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");      // overlong, 3 bytes
  CHECK(escape_untrusted("\xed\xa0\x80") == "\\xed\\xa0\\x80");      // a surrogate
  CHECK(escape_untrusted("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  CHECK(escape_untrusted("ab\xe2\x80") == "ab\\xe2\\x80");           // cut short
}

TEST_CASE("escape_untrusted: line separators and bidi overrides are shown, not obeyed", "[base][text]") {
  CHECK(escape_untrusted("a\xe2\x80\xae" "b") == "a\\u{202e}b");
  CHECK(escape_untrusted("\xe2\x80\xa8") == "\\u{2028}");
  CHECK(escape_untrusted("\xe2\x81\xa6") == "\\u{2066}");
}

TEST_CASE("escape_untrusted: the result holds no control byte, whatever the input", "[base][text]") {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  for (int i = 0; i < 256; ++i) {
    all += "\xc2";
    all.push_back(static_cast<char>(i));
  }
  const std::string out = escape_untrusted(all);
  for (char c : out) {
    const auto b = static_cast<unsigned char>(c);
    CHECK((b >= 0x20 && b != 0x7f));
  }
  CHECK(out.find("\xc2\x80") == std::string::npos);
  CHECK(out.find("\xc2\x9f") == std::string::npos);
}

TEST_CASE("split_words: runs of non-separators, in order", "[text]") {
  using V = std::vector<std::string_view>;
  CHECK(split_words("") == V{});
  CHECK(split_words(" \t\r\n ") == V{});
  CHECK(split_words("a") == V{"a"});
  CHECK(split_words("  one two\tthree\r\nfour  ") == V{"one", "two", "three", "four"});
  // Other separators: a newline is then part of a word.
  CHECK(split_words("url suite\nmain  x", " \t") == V{"url", "suite\nmain", "x"});
}

}  // namespace
}  // namespace airlock::text
