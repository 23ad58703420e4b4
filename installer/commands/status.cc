// airlock-installer status.
#include <fmt/format.h>

#include "core/base/text.h"

#include "installer/commands/commands.h"
#include "installer/install/install.h"

namespace airlock::installer {

void add_status_command(CLI::App& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("status", "Show the site: key, trusted keys, active versions, ledger integrity");
  cmd->add_flag("--json", *json, "print as JSON");
  cmd->callback([&ctx, json] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      ASSIGN_OR_RETURN(format::SiteKey key, site->site_key());
      ASSIGN_OR_RETURN(auto trusted, site->trust_store().list());
      ASSIGN_OR_RETURN(auto deps, site->ledger().deployments());
      Status chain = site->ledger().verify_event_chain();
      nlohmann::json jd = nlohmann::json::array();
      for (const DeploymentRecord& d : deps) {
        ASSIGN_OR_RETURN(auto versions, site->ledger().versions(d.name));
        std::size_t installed = 0;
        for (const auto& v : versions) {
          installed += v.state == "installed" ? 1 : 0;
        }
        jd.push_back({{"name", d.name}, {"active_version", d.active_version ? nlohmann::json(*d.active_version) : nlohmann::json()},
                      {"installed_versions", installed}, {"highest_sequence", d.highest_sequence},
                      {"path", (site->deployment_dir(d.name) / "current").string()}});
      }
      nlohmann::json jp = nlohmann::json::array();
      for (const PendingInstall& p : pending_installs(*site)) {
        jp.push_back({{"bundle_id", p.bundle_id}, {"deployment", p.deployment}, {"version", p.version},
                      {"volumes_staged", p.staged}, {"volumes", p.volumes}});
      }
      nlohmann::json out = {{"root", site->root().string()}, {"site_key", key.keyid}, {"trusted_keys", trusted.size()},
                            {"deployments", jd}, {"interrupted_installs", jp}, {"event_chain_ok", chain.has_value()}};
      if (*json) {
        fmt::print("{}\n", out.dump(2));
      } else {
        fmt::print("root          {}\nsite key      {}\ntrusted keys  {}\nevent chain   {}\n", site->root().string(),
                   key.keyid, trusted.size(), chain ? "intact" : chain.error().message());
        for (const auto& d : jd) {
          fmt::print("deployment    {}  active {}  ({} installed, highest sequence {})\n", d["name"].get<std::string>(),
                     d["active_version"].is_null() ? "none" : d["active_version"].get<std::string>(),
                     d["installed_versions"].get<std::size_t>(), d["highest_sequence"].get<std::uint64_t>());
        }
        for (const auto& p : jp) {
          fmt::print("interrupted   {} {} (bundle {}): {} of {} volume(s) staged; install it again with the media not "
                     "yet read to continue\n",
                     text::escape_untrusted(p["deployment"].get<std::string>()),
                     text::escape_untrusted(p["version"].get<std::string>()),
                     text::escape_untrusted(p["bundle_id"].get<std::string>()), p["volumes_staged"].get<std::size_t>(),
                     p["volumes"].get<std::size_t>());
        }
      }
      if (!chain) {
        return std::unexpected(chain.error());
      }
      return ok_status();
    });
  });
}

}  // namespace airlock::installer
