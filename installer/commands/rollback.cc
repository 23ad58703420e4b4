// airlock-installer rollback NAME [--to VERSION]: switch back to an installed version.
#include <algorithm>
#include <fmt/format.h>
#include "installer/activation/activation.h"
#include "installer/commands/commands.h"
#include "installer/install/bring_up.h"
#include "installer/targets/targets.h"

namespace airlock::installer {

namespace {

Status rollback(Site& site, Context& ctx, const std::string& name, const std::string& to, bool no_run) {
  ASSIGN_OR_RETURN(auto active, site.ledger().active_version(name));
  ASSIGN_OR_RETURN(auto versions, site.ledger().versions(name));
  if (versions.empty()) {
    return make_error(ErrorCode::kNotFound, "no deployment named '{}' is installed", name);
  }
  std::string target;
  if (!to.empty()) {
    auto it = std::find_if(versions.begin(), versions.end(), [&](const VersionRecord& v) { return v.version == to; });
    if (it == versions.end() || it->state != "installed") {
      return make_error(ErrorCode::kNotFound, "{} {} is not installed (see 'airlock-installer list')", name, to);
    }
    target = to;
  } else {
    // The newest installed version installed before the active one.
    auto active_it = std::find_if(versions.begin(), versions.end(),
                                  [&](const VersionRecord& v) { return active && v.version == *active; });
    for (auto it = active_it; it != versions.begin();) {
      --it;
      if (it->state == "installed") {
        target = it->version;
        break;
      }
    }
    if (target.empty()) {
      return make_error(ErrorCode::kNotFound, "{} has no earlier installed version to roll back to", name);
    }
  }
  if (active && *active == target) {
    return make_error(ErrorCode::kInvalidArgument, "{} {} is already the active version", name, target);
  }
  TRY(mark_targets_dirty(site));
  Status switched = site.ledger().with_transaction([&]() -> Status {
    TRY(site.ledger().set_active(name, target));
    TRY(target_conflicts(site, name));  // refused before anything in the install targets changes
    return site.log("rollback", name + "/" + target, "ok", fmt::format("from {}", active.value_or("none")));
  });
  if (!switched) {
    (void)clear_targets_dirty(site);  // nothing changed
    return switched;
  }
  TRY(site.switch_current(name, target));
  fmt::print("{}: active version is now {} (was {})\n", name, target, active.value_or("none"));
  if (no_run) {
    if (auto sum = sync_targets(site); !sum) {
      ctx.printer.warn("{}", targets_retry_text(sum.error()));  // switched all the same: the ledger is the truth
    }
    return ok_status();
  }
  // Its [activate] commands run again; a failure is reported, not undone:
  // going back is the operator's own act.
  return bring_up(site, name, target, active, false, [&](const std::string& line) { ctx.printer.note("{}", line); });
}

}  // namespace

void add_rollback_command(CLI::App& app, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("rollback", "Make an earlier installed version active again (default: the previous one)");
  cmd->add_option("name", *name, "deployment name")->required();
  auto no_run = std::make_shared<bool>(false);
  cmd->add_option("--to", *to, "version to activate");
  cmd->add_flag("--no-run", *no_run, "switch only: do not run the version's [activate] commands and health check");
  cmd->footer(
      "Switches deployments/NAME/current and the install targets (refs/main in ROOT/hf, ROOT/images,\n"
      "ROOT/apt, ROOT/wheels) back, then runs that version's [activate] commands and health check.\n"
      "If they fail, the version stays active and the command exits 1.");
  cmd->callback([&ctx, name, to, no_run] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      return rollback(*site, ctx, *name, *to, *no_run);
    });
  });
}

}  // namespace airlock::installer
