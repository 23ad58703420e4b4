// airlock-installer list, history, status.
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

void add_history_command(CLI::App& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("history", "Show the ledger's event log (append-only, hash-chained)");
  cmd->add_option("name", *name, "only events about this deployment");
  cmd->add_flag("--json", *json, "print as JSON");
  cmd->callback([&ctx, json, name] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      std::optional<std::string> filter;
      if (!name->empty()) {
        filter = *name;
      }
      ASSIGN_OR_RETURN(auto events, site->ledger().events(filter));
      nlohmann::json out = nlohmann::json::array();
      std::optional<std::string> shown;  // the installer named by the last identity line
      for (const EventRecord& e : events) {
        // The installer that wrote the event (ledger schema 4); null before.
        nlohmann::json installer;
        if (e.installer_version && e.installer_sha256) {
          installer = {{"version", *e.installer_version}, {"sha256", *e.installer_sha256}};
        }
        if (*json) {
          out.push_back({{"id", e.id}, {"time", iso_time(e.time)}, {"user", e.user}, {"action", e.action},
                         {"target", e.target}, {"result", e.result}, {"detail", e.detail},
                         {"installer", installer}, {"hash", e.hash}});
        } else {
          // One line each time the writer changes, before its first event.
          const std::string who =
              installer.is_null() ? "not recorded (events written before ledger schema 4)"
                                  : fmt::format("airlock-installer {}, sha256 {}", *e.installer_version,
                                                *e.installer_sha256);
          if (shown != who) {
            fmt::print("      installer: {}\n", text::escape_untrusted(who));
            shown = who;
          }
          // Escaped again on the way out: rows written before events were
          // escaped on append may still hold raw control bytes.
          fmt::print("{:>5} {} {:<10} {:<12} {:<32} {:<8} {}\n", e.id, iso_time(e.time), text::escape_untrusted(e.user),
                     text::escape_untrusted(e.action), text::escape_untrusted(e.target),
                     text::escape_untrusted(e.result), text::escape_untrusted(e.detail));
        }
      }
      if (*json) {
        fmt::print("{}\n", out.dump(2, ' ', true, nlohmann::json::error_handler_t::replace));
      }
      return ok_status();
    });
  });
}

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
      nlohmann::json out = {{"root", site->root().string()}, {"site_key", key.keyid}, {"trusted_keys", trusted.size()},
                            {"deployments", jd}, {"event_chain_ok", chain.has_value()}};
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
      }
      if (!chain) {
        return std::unexpected(chain.error());
      }
      return ok_status();
    });
  });
}

}  // namespace airlock::installer
