#pragma once
// `[activate]` commands (docs/MANIFEST.md): split into words as a POSIX shell
// splits them, with nothing else a shell does. Quotes ('...' literal, "..."
// with \" \\ \$ \` escapes) and backslash escapes are honoured; unquoted
// shell operators and expansions (| & ; < > ( ) $ ` and a leading ~ or #)
// are refused, naming the character, rather than passed on as words, so a
// command that needs a shell says so with `shell = true`.

#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"

namespace airlock::manifest {

// kInvalidArgument on an empty command, an unterminated quote or an
// unquoted operator.
Result<std::vector<std::string>> split_command(std::string_view command);

}  // namespace airlock::manifest
