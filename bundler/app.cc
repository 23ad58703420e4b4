#include "bundler/app.h"

#include "cli/run_app.h"

namespace airlock::bundler {

void build_app(CLI::App& app, Context& ctx) {
  app.name("airlock-bundler");
  app.description(
      "airlock-bundler: pack a deployment (model from a directory or the Hugging Face Hub, OCI images,\n"
      ".deb packages, Python wheels, files) into a signed, encrypted, chunked bundle split into volumes\n"
      "sized for removable media.\n\n"
      "  airlock-bundler keygen --out keys/publisher\n"
      "  airlock-bundler lock manifest.toml -o manifest.lock.json      # pin every source\n"
      "  airlock-bundler fetch manifest.lock.json                      # fill the cache (resumable)\n"
      "  airlock-bundler create manifest.toml -o bundle/ --sign keys/publisher.key --to site.pub --volume-size fat32\n"
      "  airlock-bundler verify bundle/ --trust keys/publisher.pub\n");
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", "airlock-bundler " AIRLOCK_VERSION);
  app.add_flag("-q,--quiet", ctx.quiet, "no progress output");
  add_keygen_command(app, ctx);
  add_lock_command(app, ctx);
  add_create_command(app, ctx);
  add_inspect_command(app, ctx);
  add_verify_command(app, ctx);
  add_verify_medium_command(app, ctx);
  add_rehearse_command(app, ctx);
}

int run(int argc, char** argv) {
  const net::CurlConnector curl;
  os::PosixProcessRunner processes;  // the one place the real process runner and clock are made
  const os::SystemClock clock;
  Context ctx(processes, clock);
  ctx.http = &curl;
  CLI::App app;
  build_app(app, ctx);
  return cli::run_app(app, ctx.printer, argc, argv, ctx.exit_code);
}

}  // namespace airlock::bundler
