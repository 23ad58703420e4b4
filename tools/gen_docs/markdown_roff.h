#pragma once
// A Markdown subset rendered as man(7) source, so that a reference kept as
// Markdown in the tree (docs/MANIFEST.md; the programs' manual.md) and the
// man page made from it cannot drift.
//
// Blocks: "## " (.SH) and "### " (.SS) headings, paragraphs, "- " and "1. "
// lists (one level; continuation lines indented), ``` fenced code, pipe
// tables (one .TP entry per row: the first cell is the tag, the middle
// cells follow it in parentheses, the last cell is the text; the header row
// is not shown). Inline: `code` (bold, literal),
// **bold**, *italic*, [text](url), backslash escapes. Anything else at the
// start of a line ("# " after the title, "#### ", ">", "<", "* ", "+ ",
// "---") is refused with its line number rather than rendered as garbage.

#include <string>
#include <string_view>

#include "core/base/error.h"

namespace airlock::gendocs {

// Body text only (no .TH): for the sections appended to a program's page.
Result<std::string> markdown_to_roff(std::string_view markdown, std::string_view source_name);

// A whole page. The first line must be "# NAME(SECTION): summary"; it gives
// .TH and the NAME section (the whatis line). `source` names the project
// and version for the footer, e.g. "airlock 0.1.0".
Result<std::string> markdown_man_page(std::string_view markdown, std::string_view source_name,
                                      std::string_view source);

// Inline Markdown (one paragraph's text) as roff; exposed for man_page.cc.
std::string inline_roff(std::string_view text);

// Fills `text` (already escaped) into lines of at most ~78 columns, each
// guarded by roff::line().
std::string fill_lines(std::string_view escaped);

}  // namespace airlock::gendocs
