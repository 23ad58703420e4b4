#pragma once
// Each installer command registers its subcommand; the chosen one stores its
// exit code in Context::exit_code.

#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/printer.h"
#include "installer/site/site.h"

namespace airlock::installer {

struct Context {
  explicit Context(const Os& os_in) : os(os_in) {}
  Os os;  // the real ones, from run() (installer/site/os.h)
  std::string root_option;
  bool quiet = false;
  cli::Printer printer{"airlock-installer", false};
  int exit_code = 0;

  // Opens ROOT and brings it in line with the ledger first.
  Result<std::unique_ptr<Site>> open_site();
  // Runs a command body, printing its error and setting the exit code.
  void run(const std::function<Status()>& body);
};

using cli::iso_time;

void add_init_command(CLI::App& app, Context& ctx);
void add_trust_command(CLI::App& app, Context& ctx);
void add_verify_command(CLI::App& app, Context& ctx);
void add_install_command(CLI::App& app, Context& ctx);
void add_list_command(CLI::App& app, Context& ctx);
void add_history_command(CLI::App& app, Context& ctx);
void add_status_command(CLI::App& app, Context& ctx);
void add_rollback_command(CLI::App& app, Context& ctx);
void add_check_command(CLI::App& app, Context& ctx);
void add_gc_command(CLI::App& app, Context& ctx);
void add_publish_command(CLI::App& app, Context& ctx);
void add_targets_command(CLI::App& app, Context& ctx);
void add_have_command(CLI::App& app, Context& ctx);

}  // namespace airlock::installer
