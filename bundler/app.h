#pragma once
// airlock-bundler: the connected side. build_app() defines the command line
// (every subcommand, option and help text, with CLI11); run() parses argv
// with it, dispatches to commands/<verb>.cc and maps errors to exit codes.
// tools/gen_docs walks the same tree for the man page and the bash
// completion, so they cannot drift from --help.

#include <CLI/CLI.hpp>

#include "bundler/commands/commands.h"

namespace airlock::bundler {

// Fills an empty App: name, description, version flag, global options and
// every subcommand, bound to ctx (which must outlive the App).
void build_app(CLI::App& app, Context& ctx);

int run(int argc, char** argv);

}  // namespace airlock::bundler
