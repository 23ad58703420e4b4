#include "cli/run_app.h"

#include <exception>

#include "core/base/interrupt.h"
#include "core/crypto/openssl_init.h"
#include "core/crypto/sodium.h"

namespace airlock::cli {

int run_app(CLI::App& app, Printer& printer, int argc, char** argv, const int& command_exit_code) {
  install_interrupt_handlers();
  if (auto st = crypto::init_openssl(); !st) {
    return printer.fail(st.error());
  }
  if (auto st = crypto::init_sodium(); !st) {
    return printer.fail(st.error());
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? k_exit_ok : k_exit_usage;
  } catch (const std::exception& e) {
    // Third-party code (CLI11, nlohmann, toml++) may throw; core does not.
    return printer.fail(Error(ErrorCode::kIOError, fmt::format("unexpected failure: {}", e.what())));
  }
  return command_exit_code;
}

}  // namespace airlock::cli
