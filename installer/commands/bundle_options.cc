#include "installer/commands/bundle_options.h"

#include "keys/key_files.h"

namespace airlock::installer {

Result<GateOptions> gate_options(const BundleOptions& o) {
  GateOptions g;
  g.allow_unencrypted = o.allow_unencrypted;
  g.more_media.assign(o.bundles.begin() + (o.bundles.empty() ? 0 : 1), o.bundles.end());
  if (!o.passphrase_file.empty()) {
    ASSIGN_OR_RETURN(std::string pass, keys::read_passphrase_file(o.passphrase_file));
    g.passphrase = pass;
  }
  return g;
}

void add_bundle_options(CLI::App* cmd, BundleOptions& o) {
  cmd->add_option("bundle", o.bundles,
                  "bundle directory or its .airlock index; for a bundle on several media (create --media), the "
                  "directory of every medium, in any order (disc01/ ... as mounted or copied)")
      ->required();
  cmd->add_option("--passphrase-file", o.passphrase_file, "passphrase for a passphrase-encrypted bundle");
  cmd->add_flag("--allow-unencrypted", o.allow_unencrypted, "accept a bundle made with --no-encrypt");
  cmd->add_flag("--json", o.json, "print the result as JSON");
  cmd->add_option("--threads", o.threads, "worker threads for decryption and hashing (default: one per core)");
  cmd->add_flag("--timings", o.timings, "print where the time went, per stage");
}

}  // namespace airlock::installer
