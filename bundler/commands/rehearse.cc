// airlock-bundler rehearse: before the media leave, install the bundle into a
// scratch root in a network-free sandbox and report what tried the network.
// The work is airlock-installer's (install --rehearse, installer/rehearse/):
// this runs it against a site root of the connected side whose key the
// bundle is addressed to, and passes its output and exit status through.
#include <filesystem>
#include <memory>

#include "bundler/commands/commands.h"

namespace airlock::bundler {

namespace {

// The installer beside this program (both come in the same build and
// package), else airlock-installer on PATH.
std::string default_installer() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path sibling = self.parent_path() / "airlock-installer";
    if (os::program_on_path(sibling.string())) {
      return sibling.string();
    }
    const std::filesystem::path built = self.parent_path().parent_path() / "installer" / "airlock-installer";
    if (os::program_on_path(built.string())) {
      return built.string();  // a build tree: build/bundler/ beside build/installer/
    }
  }
  return "airlock-installer";
}

}  // namespace

void add_rehearse_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::vector<std::string> bundles;
    std::string site_root, installer, passphrase_file, scratch, trace;
    bool allow_unencrypted = false, json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "rehearse", "Install a bundle into a scratch root with no network, activate it, and report what tried the network");
  cmd->add_option("bundle", o->bundles, "the bundle directory (and the directories of its other media)")->required();
  cmd->add_option("--site-root", o->site_root,
                  "a site root on this side (airlock-installer init) that the bundle is addressed to (--to "
                  "ROOT/keys/site.pub) and that trusts its signer; only read")
      ->type_name("ROOT")
      ->required();
  cmd->add_option("--installer", o->installer,
                  "the airlock-installer to run (default: the one beside this program, else on PATH)")
      ->type_name("PATH");
  cmd->add_option("--passphrase-file", o->passphrase_file, "passphrase for a passphrase-encrypted bundle");
  cmd->add_flag("--allow-unencrypted", o->allow_unencrypted, "accept a bundle made with --no-encrypt");
  cmd->add_option("--scratch", o->scratch, "where the scratch root is made (default $TMPDIR, else /tmp)")
      ->type_name("DIR");
  cmd->add_option("--trace", o->trace, "also keep strace's log of the rehearsal in FILE")->type_name("FILE");
  cmd->add_flag("--json", o->json, "print the findings as JSON");
  cmd->footer(
      "What it does: airlock-installer --root ROOT install BUNDLE --rehearse. The bundle is installed into a\n"
      "fresh scratch root (ROOT's keys, no history) inside new user, network and mount namespaces whose only\n"
      "interface is loopback, under strace; its [activate] commands and health check run there as they would\n"
      "on the site, and every connect, datagram and DNS query to anything but loopback is a finding:\n"
      "  curl (pid 812) looked up example.org (A) via 127.0.0.1:53\n"
      "  python3 (pid 40) tried 192.0.2.7:8443: ENETUNREACH\n"
      "Nothing can reach a real network from inside, even on a connected machine. Needs strace, iproute2's\n"
      "ip and user namespaces. Keep a rehearsal site: 'airlock-installer --root ~/rehearsal init', trust\n"
      "your publisher key there, and add '--to ~/rehearsal/keys/site.pub' to create.\n\n"
      "Exit status: 0 nothing tried the network; 4 something did; 1 or 3 the scratch install failed\n"
      "(as install would), or the sandbox could not be made.");
  cmd->callback([&ctx, o] {
    std::vector<std::string> argv = {o->installer.empty() ? default_installer() : o->installer, "--root",
                                     o->site_root, "install"};
    argv.insert(argv.end(), o->bundles.begin(), o->bundles.end());
    argv.push_back("--rehearse");
    for (const auto& [flag, value] : {std::pair{"--passphrase-file", o->passphrase_file},
                                      std::pair{"--scratch", o->scratch}, std::pair{"--trace", o->trace}}) {
      if (!value.empty()) {
        argv.insert(argv.end(), {flag, value});
      }
    }
    if (o->allow_unencrypted) {
      argv.push_back("--allow-unencrypted");
    }
    if (o->json) {
      argv.push_back("--json");
    }
    if (ctx.quiet) {
      argv.insert(argv.begin() + 1, "--quiet");
    }
    os::ProcessOptions po;
    po.own_process_group = false;  // Ctrl-C reaches it directly
    auto r = ctx.processes.run(argv, po);
    if (!r) {
      ctx.exit_code = ctx.printer.fail(r.error());
      return;
    }
    ctx.exit_code = r->exit_code >= 0 ? r->exit_code : 128 + r->signal;
  });
}

}  // namespace airlock::bundler
