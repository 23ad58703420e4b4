// airlock-bundler verify: signature and every volume's hash, with no site key.
#include <fmt/format.h>
#include "bundler/commands/commands.h"
#include "keys/trust.h"

namespace airlock::bundler {

namespace {

struct VerifyOptions {
  std::string bundle;
  std::vector<std::string> trust;
};

Status verify(const VerifyOptions& o, Context& ctx) {
  std::vector<keys::PublicKey> keys;
  for (const std::string& path : o.trust) {
    ASSIGN_OR_RETURN(keys::PublicKey k, keys::load_public_key(path));
    keys.push_back(k);
  }
  // Refused on the key ids alone before the body is read, as the installer does.
  ASSIGN_OR_RETURN(format::OpenedIndex opened,
                   format::open_index(o.bundle, [&](const format::OpenedIndex& i) {
                     return keys::check_signers_named_with(i, keys);
                   }));
  ASSIGN_OR_RETURN(keys::SignatureCheck check, keys::check_signatures_with(opened, keys));
  Status st = format::check_volume_hashes(opened, ctx.printer.progress());
  ctx.printer.end_progress();
  TRY(st);
  // The shipped installers (create --with-installer): size, SHA-256 and each
  // detached signature by a key given here; unlisted ones are refused.
  std::vector<crypto::SignPublicKey> pubs;
  for (const keys::PublicKey& k : keys) {
    pubs.push_back(k.pub);
  }
  ASSIGN_OR_RETURN(format::ShippedCheck shipped,
                   format::check_shipped_installers(opened.dir, opened.header.installers, pubs));
  std::uint64_t total = 0;
  for (const auto& v : opened.header.volumes) {
    total += v.size;
  }
  std::string extra;
  if (opened.header.installers) {
    extra = fmt::format("; {} shipped installer file(s), {} signature(s) verified{}", shipped.files,
                        shipped.signatures_verified,
                        shipped.signatures_unchecked != 0
                            ? fmt::format(", {} by keys not given here unchecked", shipped.signatures_unchecked)
                            : "");
  }
  fmt::print("ok: {} {} signed by {}; {} volume(s), {} verified{}\n", opened.header.name, opened.header.version,
             fmt::join(check.signers, ", "), opened.header.volumes.size(), cli::human_bytes(total), extra);
  return ok_status();
}

}  // namespace

void add_verify_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Check a bundle's signature, every volume's SHA-256 and any shipped installers (no site key needed)");
  cmd->add_option("bundle", o->bundle, "bundle directory or its .airlock index")->required();
  cmd->add_option("--trust", o->trust, "publisher public key (.pub); repeatable")->required();
  cmd->callback([&ctx, o] {
    ctx.printer.set_quiet(ctx.quiet);
    auto st = verify(*o, ctx);
    if (!st) {
      ctx.exit_code = ctx.printer.fail(st.error());
    }
  });
}

}  // namespace airlock::bundler
