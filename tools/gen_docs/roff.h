#pragma once
// Escaping text for man(7) source (groff). Every byte our pages print goes
// through one of these, so no help text or Markdown can become a request.

#include <string>
#include <string_view>

namespace airlock::gendocs::roff {

// After .TH: no hyphenation and a ragged right margin, so paths, options and
// globs print whole and a long word does not stretch the line before it.
inline constexpr const char* k_page_setup = ".nh\n.ad l\n";

// Prose: '\' -> \e, non-ASCII UTF-8 -> \[uXXXX] (invalid bytes -> \[uFFFD]),
// control characters dropped. Leaves '-' a hyphen.
std::string text(std::string_view s);
// Literal text (option names, commands, paths, code): as text(), with '-' as
// \- (a minus that is not a break point, searchable as '-') and quotes and
// backquotes as themselves (\(aq, \(ga) rather than typographic ones.
std::string literal(std::string_view s);
// One input line: guards a leading '.' or '\'' (which would make it a
// request) with \&. Prose callers trim leading spaces (they break the line).
std::string line(std::string_view escaped);
// A macro argument: escaped text inside double quotes ('"' as \(dq).
std::string quoted(std::string_view escaped);

}  // namespace airlock::gendocs::roff
