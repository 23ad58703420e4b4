// airlock-installer verify.
#include <chrono>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include "installer/commands/bundle_options.h"
#include "installer/commands/commands.h"
#include "installer/install/install.h"

namespace airlock::installer {

void add_verify_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<BundleOptions>();
  CLI::App* cmd = app.add_subcommand("verify", "Check a bundle completely (signature, site, every chunk) without writing");
  add_bundle_options(cmd, *o);
  auto medium = std::make_shared<bool>(false);
  cmd->add_flag("--medium", *medium,
                "check one medium of a bundle made with 'create --media' (BUNDLE is that medium's directory): the "
                "index's signatures and every volume on it, and say which medium it is and what the others must "
                "still bring; no site key is used");
  cmd->callback([&ctx, o, medium] {
    ctx.run([&]() -> Status {
      ASSIGN_OR_RETURN(auto site, Site::open(resolve_root(ctx.root_option), ctx.os));
      if (*medium) {
        if (o->bundles.size() != 1) {
          return make_error(ErrorCode::kUsage, "--medium checks one medium: give its directory alone");
        }
        auto m = verify_medium(*site, o->bundles.front(), ctx.printer.progress());
        ctx.printer.end_progress();
        TRY(m);
        for (const std::string& n : m->check.notes) {
          ctx.printer.note("{}", n);
        }
        const format::Header& h = m->opened.header;
        if (o->json) {
          nlohmann::json j = format::medium_check_json(m->opened, m->check);
          j["signed_by"] = m->signers;
          fmt::print("{}\n", j.dump(2));
        } else {
          fmt::print("ok: {} of {} {} (bundle {}), signed by {}: {}\n", format::medium_name(m->check), h.name,
                     h.version, h.bundle_id, fmt::join(m->signers, ", "), format::medium_summary(m->opened, m->check));
        }
        return ok_status();
      }
      ASSIGN_OR_RETURN(GateOptions gate, gate_options(*o));
      Timings timings;
      auto started = std::chrono::steady_clock::now();
      auto out = verify_bundle(*site, o->bundles.front(), gate, ctx.printer.progress(), o->threads,
                               o->timings ? &timings : nullptr);
      ctx.printer.end_progress();
      TRY(out);
      for (const std::string& n : out->notes) {
        ctx.printer.note("{}", n);
      }
      if (o->timings) {
        ctx.printer.print_timings(timings, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      }
      if (o->json) {
        nlohmann::json j = {{"deployment", out->name}, {"version", out->version}, {"ok", true},
                            {"already_installed", out->already_installed}, {"files", out->files},
                            {"volume_bytes", out->volume_bytes}, {"signed_by", out->signers},
                            {"shipped_installer_files", out->shipped_files},
                            {"shipped_installer_signatures", out->shipped_signatures}};
        fmt::print("{}\n", j.dump(2));
      } else {
        fmt::print("ok: {} {} verified ({} files, {} read), signed by {}{}{}\n", out->name, out->version, out->files,
                   cli::human_bytes(out->volume_bytes), fmt::join(out->signers, ", "),
                   out->shipped_files != 0 ? fmt::format("; {} shipped installer file(s), {} signature(s) verified",
                                                         out->shipped_files, out->shipped_signatures)
                                           : "",
                   out->already_installed ? "; already installed" : "");
      }
      return ok_status();
    });
  });
}

}  // namespace airlock::installer
