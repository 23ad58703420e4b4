#pragma once
// A bash completion script for a program, from its command tree: the
// subcommands at each level, each command's options (with those of the
// levels above it that it falls through to), and for each option's value and
// each positional what to offer: file names, directory names, or the
// choices of an IsMember check.

#include <string>

#include "core/base/error.h"
#include "tools/gen_docs/cli_tree.h"

namespace airlock::gendocs {

// Refuses (rather than quoting) a command, option or choice name that is not
// [A-Za-z0-9._+=-]+, so the script never depends on shell quoting of names.
Result<std::string> render_bash_completion(const CommandDoc& program);

}  // namespace airlock::gendocs
