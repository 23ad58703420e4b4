// airlock-installer init: the ledger and the site key pair.
#include "core/fs/file.h"
#include "installer/commands/commands.h"

namespace airlock::installer {

void add_init_command(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("init", "Create ROOT: ledger, site key pair; prints the site public key");
  cmd->callback([&ctx] {
    ctx.run([&]() -> Status {
      stdfs::path root = resolve_root(ctx.root_option);
      ASSIGN_OR_RETURN(auto site, Site::init(root, ctx.os));
      ASSIGN_OR_RETURN(format::SiteKey key, site->site_key());
      ASSIGN_OR_RETURN(std::string pub, fs::read_text_file(site->keys_dir() / "site.pub", 4096));
      fmt::print("{}", pub);
      ctx.printer.note("initialised {} (site key {}); give {} to the bundler's --to", root.string(), key.keyid,
                       (site->keys_dir() / "site.pub").string());
      return ok_status();
    });
  });
}

}  // namespace airlock::installer
