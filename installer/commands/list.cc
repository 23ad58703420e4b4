// airlock-installer list.
#include <fmt/format.h>

#include "core/base/text.h"

#include "installer/commands/commands.h"

namespace airlock::installer {

void add_list_command(CLI::App& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("list", "List deployments and their installed versions");
  cmd->add_flag("--json", *json, "print as JSON");
  cmd->callback([&ctx, json] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      ASSIGN_OR_RETURN(auto deps, site->ledger().deployments());
      nlohmann::json out = nlohmann::json::array();
      for (const DeploymentRecord& d : deps) {
        ASSIGN_OR_RETURN(auto versions, site->ledger().versions(d.name));
        nlohmann::json jv = nlohmann::json::array();
        for (const VersionRecord& v : versions) {
          bool active = d.active_version && *d.active_version == v.version;
          jv.push_back({{"version", v.version}, {"state", v.state}, {"active", active}, {"sequence", v.sequence},
                        {"installed_at", iso_time(v.installed_at)}, {"bytes", v.total_bytes}, {"bundle_id", v.bundle_id}});
          if (!*json) {
            fmt::print("{:<24} {:<20} {:<9} {:>10}  {}{}\n", d.name, v.version, v.state, cli::human_bytes(v.total_bytes),
                       iso_time(v.installed_at), active ? "  * active" : "");
          }
        }
        out.push_back({{"name", d.name}, {"active_version", d.active_version ? nlohmann::json(*d.active_version) : nlohmann::json()},
                       {"versions", jv}});
      }
      if (*json) {
        fmt::print("{}\n", out.dump(2));
      } else if (deps.empty()) {
        fmt::print("no deployments installed\n");
      }
      return ok_status();
    });
  });
}

}  // namespace airlock::installer
