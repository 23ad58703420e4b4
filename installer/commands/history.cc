// airlock-installer history.
#include <fmt/format.h>

#include "core/base/text.h"

#include "installer/commands/commands.h"

namespace airlock::installer {

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

}  // namespace airlock::installer
