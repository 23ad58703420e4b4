#include "installer/app.h"

#include <ctime>
#include <sys/stat.h>

#include "cli/run_app.h"
#include "installer/commands/commands.h"
#include "installer/install/recover.h"

namespace airlock::installer {

Result<std::unique_ptr<Site>> Context::open_site() {
  ASSIGN_OR_RETURN(auto site, Site::open(resolve_root(root_option), os));
  TRY(site->lock_exclusive());  // recover() and every change below are ours alone
  ASSIGN_OR_RETURN(Recovery recovery, recover(*site));
  for (const std::string& r : recovery.repaired) {
    printer.warn("recovered: {}", r);
  }
  for (const std::string& r : recovery.failures) {
    printer.warn("not recovered: {}", r);  // the command still runs: the ledger is the truth
  }
  return site;
}

void Context::run(const std::function<Status()>& body) {
  printer.set_quiet(quiet);
  Status st = body();
  if (!st) {
    exit_code = printer.fail(st.error());
  }
}

void build_app(CLI::App& app, Context& ctx) {
  app.name("airlock-installer");
  app.description(
      "airlock-installer: verify, install, audit and roll back Airlock bundles on an isolated site.\n"
      "Holds no network code. State lives under ROOT (--root, else $AIRLOCK_ROOT, else /var/lib/airlock).\n\n"
      "  airlock-installer init                      # prints the site public key for the bundler's --to\n"
      "  airlock-installer trust add publisher.pub --name acme\n"
      "  airlock-installer verify /media/usb/bundle  # decrypt and hash everything, write nothing\n"
      "  airlock-installer install /media/usb/bundle\n"
      "  airlock-installer rollback NAME\n\n"
      "Exit codes: 0 ok, 1 error, 2 usage, 3 verification failed, 130 interrupted.");
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", "airlock-installer " AIRLOCK_VERSION);
  app.add_option("--root", ctx.root_option, "installer root directory")->type_name("DIR");
  app.add_flag("-q,--quiet", ctx.quiet, "no progress output");
  add_init_command(app, ctx);
  add_trust_command(app, ctx);
  add_verify_command(app, ctx);
  add_install_command(app, ctx);
  add_list_command(app, ctx);
  add_history_command(app, ctx);
  add_status_command(app, ctx);
  add_rollback_command(app, ctx);
  add_check_command(app, ctx);
  add_gc_command(app, ctx);
  add_targets_command(app, ctx);
  add_publish_command(app, ctx);
  add_have_command(app, ctx);
}

int run(int argc, char** argv) {
  // Our own umask, not the caller's: what the installer creates under ROOT is
  // never group/other-writable (key files and keys/ get 077 where they are made).
  ::umask(022);
  SystemOs real_os;  // the one place the real clock, file system and process runner are made
  Context ctx(real_os.os());
  CLI::App app;
  build_app(app, ctx);
  return cli::run_app(app, ctx.printer, argc, argv, ctx.exit_code);
}

}  // namespace airlock::installer
