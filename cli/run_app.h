#pragma once
// The shared tail of both programs' run(): signal handlers, OpenSSL (without
// openssl.cnf, see core/crypto/openssl_init.h) and libsodium, argv
// parsing with CLI11, and the mapping of what went wrong to an exit code
// (0 for --help/--version, 2 for usage errors, else the command's code).

#include <CLI/CLI.hpp>

#include "cli/printer.h"

namespace airlock::cli {

// Parses argv (running the chosen subcommand's callback) and returns the exit
// code; `command_exit_code` is where the callback left its result.
int run_app(CLI::App& app, Printer& printer, int argc, char** argv, const int& command_exit_code);

}  // namespace airlock::cli
