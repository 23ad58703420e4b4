// airlock-installer init: the ledger, the site key pair and the site signing key.
#include "core/fs/file.h"
#include "installer/commands/commands.h"

namespace airlock::installer {

void add_init_command(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("init", "Create ROOT: ledger, site key pair, site signing key; prints both public keys");
  cmd->callback([&ctx] {
    ctx.run([&]() -> Status {
      stdfs::path root = resolve_root(ctx.root_option);
      ASSIGN_OR_RETURN(auto site, Site::init(root, ctx.os));
      ASSIGN_OR_RETURN(format::SiteKey key, site->site_key());
      ASSIGN_OR_RETURN(std::string pub, fs::read_text_file(site->keys_dir() / "site.pub", 4096));
      ASSIGN_OR_RETURN(format::Signer signing, site->site_signing_key());
      ASSIGN_OR_RETURN(std::string signing_pub, fs::read_text_file(site->site_signing_pub_path(), 4096));
      fmt::print("{}", pub);
      fmt::print("{}", signing_pub);
      ctx.printer.note("initialised {} (site key {}); give {} to the bundler's --to", root.string(), key.keyid,
                       (site->keys_dir() / "site.pub").string());
      ctx.printer.note("site signing key {} ({}): it signs this site's have-lists ('have --export'); give it to "
                       "the bundler's --site-signing-key to verify them",
                       signing.keyid, site->site_signing_pub_path().string());
      return ok_status();
    });
  });
}

}  // namespace airlock::installer
