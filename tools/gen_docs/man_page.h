#pragma once
// A program's man page (section 1) from its command tree: NAME and
// DESCRIPTION from the App's description, SYNOPSIS, OPTIONS and COMMANDS
// from the options and subcommands, then the sections kept as Markdown next
// to the App definition (EXIT STATUS, ENVIRONMENT, FILES, SEE ALSO).

#include <string>
#include <string_view>

#include "core/base/error.h"
#include "tools/gen_docs/cli_tree.h"

namespace airlock::gendocs {

// `source` is the footer's project and version ("airlock 0.1.0");
// `manual_md` the extra sections, `manual_name` where they came from.
Result<std::string> render_man_page(const CommandDoc& program, std::string_view source, std::string_view manual_md,
                                    std::string_view manual_name);

}  // namespace airlock::gendocs
