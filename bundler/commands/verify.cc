// airlock-bundler verify: signature and every volume's hash, with no site key.
#include <fmt/format.h>
#include "bundler/commands/commands.h"
#include "keys/trust.h"

namespace airlock::bundler {

namespace {

struct VerifyOptions {
  std::vector<std::string> bundles;  // the bundle, then its other media
  std::vector<std::string> trust;
  bool json = false;
};

struct Checked {
  format::OpenedIndex opened;
  std::vector<keys::PublicKey> keys;
  keys::SignatureCheck signatures;
};

// The index of `bundle`, its signatures checked by the --trust keys.
Result<Checked> open_checked(const std::string& bundle, const std::vector<std::string>& trust) {
  Checked c;
  for (const std::string& path : trust) {
    ASSIGN_OR_RETURN(keys::PublicKey k, keys::load_public_key(path));
    c.keys.push_back(k);
  }
  // Refused on the key ids alone before the body is read, as the installer does.
  ASSIGN_OR_RETURN(c.opened, format::open_index(bundle, [&](const format::OpenedIndex& i) {
                     return keys::check_signers_named_with(i, c.keys);
                   }));
  ASSIGN_OR_RETURN(c.signatures, keys::check_signatures_with(c.opened, c.keys));
  return c;
}

Status verify(const VerifyOptions& o, Context& ctx) {
  ASSIGN_OR_RETURN(Checked c, open_checked(o.bundles.front(), o.trust));
  format::OpenedIndex& opened = c.opened;
  const std::vector<keys::PublicKey>& keys = c.keys;
  const keys::SignatureCheck& check = c.signatures;
  TRY(format::add_media_dirs(opened, std::vector<std::filesystem::path>(o.bundles.begin() + 1, o.bundles.end())));
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
                   format::check_shipped_installers(format::shipped_dir(opened), opened.header.installers, pubs));
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
  cmd->add_option("bundle", o->bundles,
                  "bundle directory or its .airlock index; for a bundle on several media (create --media), the "
                  "directory of every medium, in any order")
      ->required();
  cmd->add_option("--trust", o->trust, "publisher public key (.pub); repeatable")->required();
  cmd->callback([&ctx, o] {
    ctx.printer.set_quiet(ctx.quiet);
    auto st = verify(*o, ctx);
    if (!st) {
      ctx.exit_code = ctx.printer.fail(st.error());
    }
  });
}

void add_verify_medium_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify-medium",
      "Read back one medium of a bundle made with 'create --media' (after burning or copying it): the index's "
      "signature and every volume on it; says which medium it is and what the others must still bring");
  o->bundles.emplace_back();
  cmd->add_option("medium", o->bundles.front(), "the medium's directory (where it is mounted, or a copy)")
      ->required()
      ->type_name("DIR");
  cmd->add_option("--trust", o->trust, "publisher public key (.pub); repeatable")->required();
  cmd->add_flag("--json", o->json, "print the result as JSON");
  cmd->callback([&ctx, o] {
    ctx.printer.set_quiet(ctx.quiet);
    auto st = [&]() -> Status {
      ASSIGN_OR_RETURN(Checked c, open_checked(o->bundles.front(), o->trust));
      auto m = format::check_medium(c.opened, ctx.printer.progress());
      ctx.printer.end_progress();
      TRY(m);
      for (const std::string& n : m->notes) {
        ctx.printer.note("{}", n);
      }
      const format::Header& h = c.opened.header;
      if (o->json) {
        nlohmann::json j = format::medium_check_json(c.opened, *m);
        j["signed_by"] = c.signatures.signers;
        fmt::print("{}\n", j.dump(2));
      } else {
        fmt::print("ok: {} of {} {} (bundle {}), signed by {}: {}\n", format::medium_name(*m), h.name, h.version,
                   h.bundle_id, fmt::join(c.signatures.signers, ", "), format::medium_summary(c.opened, *m));
      }
      return ok_status();
    }();
    if (!st) {
      ctx.exit_code = ctx.printer.fail(st.error());
    }
  });
}

}  // namespace airlock::bundler
