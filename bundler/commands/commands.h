#pragma once
// Each bundler command registers its subcommand and, when chosen, stores its
// exit code in Context::exit_code.

#include <CLI/CLI.hpp>

#include "cli/printer.h"
#include "net/http.h"
#include "core/os/clock.h"
#include "core/os/process_runner.h"

namespace airlock::bundler {

struct Context {
  Context(os::ProcessRunner& processes_in, const os::Clock& clock_in) : processes(processes_in), clock(clock_in) {}
  os::ProcessRunner& processes;  // the real one, from run() (gpgv)
  const os::Clock& clock;        // the real one, from run() (a bundle's created time, Valid-Until)
  const net::HttpConnector* http = nullptr;  // set by run(): libcurl; everything that downloads gets it from here
  bool quiet = false;
  cli::Printer printer{"airlock-bundler", false};
  int exit_code = 0;
};

void add_keygen_command(CLI::App& app, Context& ctx);
void add_create_command(CLI::App& app, Context& ctx);
void add_lock_command(CLI::App& app, Context& ctx);  // lock and fetch
void add_inspect_command(CLI::App& app, Context& ctx);
void add_verify_command(CLI::App& app, Context& ctx);
void add_verify_medium_command(CLI::App& app, Context& ctx);
void add_rehearse_command(CLI::App& app, Context& ctx);

}  // namespace airlock::bundler
