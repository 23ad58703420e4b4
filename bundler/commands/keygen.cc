#include <filesystem>

#include "bundler/commands/commands.h"
#include "keys/key_files.h"

namespace airlock::bundler {

void add_keygen_command(CLI::App& app, Context& ctx) {
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "keygen", "Create an Ed25519 publisher signing key: PATH.key (0600), PATH.pub, and PATH.pem (the public key "
                "for stock OpenSSL)");
  cmd->add_option("--out", *out, "path prefix for the key files")->required();
  cmd->callback([&ctx, out] {
    auto key = keys::generate_signing_key(*out);
    if (!key) {
      ctx.exit_code = ctx.printer.fail(key.error());
      return;
    }
    fmt::print("{}.key\n{}.pub\n{}.pem\nkey id {}\n", *out, *out, *out, key->keyid);
  });
}

}  // namespace airlock::bundler
