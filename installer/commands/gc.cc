// airlock-installer gc --keep N: delete old versions' files, keeping the
// active one and the N most recently installed.
#include <algorithm>
#include <fmt/format.h>
#include "core/fs/file.h"
#include "installer/commands/commands.h"
#include "installer/targets/targets.h"

namespace airlock::installer {

namespace {

Status gc(Site& site, std::size_t keep, cli::Printer& printer) {
  ASSIGN_OR_RETURN(auto deps, site.ledger().deployments());
  std::size_t removed = 0;
  for (const DeploymentRecord& d : deps) {
    ASSIGN_OR_RETURN(auto versions, site.ledger().versions(d.name));
    std::vector<const VersionRecord*> installed;
    for (const VersionRecord& v : versions) {
      if (v.state == "installed") {
        installed.push_back(&v);
      }
    }
    // Newest first; the first `keep` stay, and so does the active one.
    std::size_t kept = 0;
    for (auto it = installed.rbegin(); it != installed.rend(); ++it) {
      const VersionRecord& v = **it;
      bool active = d.active_version && *d.active_version == v.version;
      if (active || kept < keep) {
        ++kept;
        continue;
      }
      std::string target = d.name + "/" + v.version;
      TRY(mark_targets_dirty(site));  // its HF snapshot goes too
      // Ledger first: a crash after this leaves files recover() removes.
      TRY(site.ledger().with_transaction([&]() -> Status {
        TRY(site.ledger().mark_removed(d.name, v.version));
        return site.log("gc", target, "ok", fmt::format("removed {} bytes", v.total_bytes));
      }));
      TRY(fs::remove_tree(site.version_dir(d.name, v.version)));
      fmt::print("removed {} {}\n", d.name, v.version);
      ++removed;
    }
  }
  if (removed > 0) {
    if (auto sum = sync_targets(site); !sum) {
      printer.warn("{}", targets_retry_text(sum.error()));  // the versions are gone all the same
    }
  }
  fmt::print("gc: {} version(s) removed\n", removed);
  return ok_status();
}

}  // namespace

void add_gc_command(CLI::App& app, Context& ctx) {
  auto keep = std::make_shared<std::size_t>(2);
  CLI::App* cmd = app.add_subcommand("gc", "Delete old versions, keeping the active one and the N newest");
  cmd->add_option("--keep", *keep, "installed versions to keep per deployment (the active one always stays)")
      ->capture_default_str();
  cmd->callback([&ctx, keep] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      return gc(*site, *keep, ctx.printer);
    });
  });
}

}  // namespace airlock::installer
