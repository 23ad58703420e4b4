// airlock-installer install.
#include <chrono>
#include <fmt/format.h>
#include "core/fs/file.h"
#include "installer/commands/bundle_options.h"
#include "installer/commands/commands.h"
#include "installer/install/install.h"
#include "installer/rehearse/rehearse.h"

namespace airlock::installer {

namespace {

Status run_rehearsal(Context& ctx, const BundleOptions& o, const std::string& scratch, const std::string& trace) {
  if (o.no_activate) {
    return make_error(ErrorCode::kUsage, "--rehearse runs the activation; it cannot go with --no-activate");
  }
  ASSIGN_OR_RETURN(auto site, ctx.open_site());
  RehearseOptions ro;
  ro.bundles = o.bundles;
  ro.passphrase_file = o.passphrase_file;
  ro.allow_unencrypted = o.allow_unencrypted;
  ro.load = o.load;
  ro.threads = o.threads;
  ro.scratch_parent = scratch;
  ro.keep_trace = trace;
  ro.say = [&ctx](const std::string& line) { ctx.printer.note("{}", line); };
  ASSIGN_OR_RETURN(Rehearsal r, rehearse(*site, ctx.os, ro));
  if (o.json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const NetworkFinding& f : r.findings) {
      findings.push_back({{"kind", f.kind}, {"program", f.program}, {"pid", f.pid}, {"host", f.host},
                          {"query", f.query}, {"address", f.address}, {"port", f.port}, {"result", f.result},
                          {"count", f.count}, {"text", f.describe()}});
    }
    nlohmann::json j = {{"bundle", o.bundles.front()}, {"install_exit", r.install_exit},
                        {"network_free", r.findings.empty()}, {"findings", findings},
                        {"scratch", r.scratch}, {"seconds", r.seconds}};
    fmt::print("{}\n", j.dump(2));
  } else if (r.findings.empty()) {
    fmt::print("rehearsal: nothing tried to reach the network (scratch install exit {}, {:.1f} s)\n", r.install_exit,
               r.seconds);
  } else {
    fmt::print("rehearsal: {} attempt{} to reach the network (scratch install exit {}, {:.1f} s):\n",
               r.findings.size(), r.findings.size() == 1 ? "" : "s", r.install_exit, r.seconds);
    for (const NetworkFinding& f : r.findings) {
      fmt::print("  {}\n", f.describe());
    }
  }
  if (!r.findings.empty()) {
    ctx.exit_code = k_exit_network_found;
    return ok_status();
  }
  if (r.install_exit != 0) {
    ctx.exit_code = r.install_exit == 3 ? 3 : 1;
    ctx.printer.note("rehearsal: the scratch install failed with exit {} (its messages are above)", r.install_exit);
  }
  return ok_status();
}

}  // namespace

void add_install_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<BundleOptions>();
  CLI::App* cmd = app.add_subcommand("install", "Verify and install a bundle, then make it the active version");
  add_bundle_options(cmd, *o);
  cmd->footer(
      "Activating a version also rebuilds the install targets (see 'airlock-installer targets') and runs\n"
      "the bundle's [activate] commands, then its health check until the timeout. If either fails, the\n"
      "previous version is made active again automatically, the ledger records both events, and install\n"
      "exits 1 saying why.\n\n"
      "A bundle on several media: give every medium's directory, or --media-path DRIVE for one drive. An\n"
      "install stopped between volumes (Ctrl-C, a kill, a medium not there) keeps what it read; install\n"
      "the same bundle again with the media not yet read and it continues ('status' shows it meanwhile).\n\n"
      "--rehearse installs into a scratch root instead (made afresh, with this site's keys, removed after),\n"
      "inside a sandbox with no network but loopback, runs the [activate] commands and health check there,\n"
      "and reports every connection, datagram and name lookup that anything it started tried, with the\n"
      "program: 'python3 (pid 41) looked up huggingface.co (A)'. It needs strace and iproute2's ip, and user\n"
      "namespaces. ROOT is only read. Exit 0: nothing tried the network; 4: something did (the findings);\n"
      "otherwise the scratch install's own failure.");
  auto media_path = std::make_shared<std::string>();
  auto wait = std::make_shared<bool>(false);
  CLI::Option* mp = cmd->add_option(
      "--media-path", *media_path,
      "one drive (or landing directory) that the media pass through in turn: the installer reads the medium in "
      "it, then asks for the next ('insert disc03 ... and press Enter'); media in any order")
      ->type_name("DIR");
  cmd->get_option("bundle")->required(false)->excludes(mp);
  cmd->add_flag("--wait", *wait,
                "with --media-path: poll the drive for the next medium instead of asking on the terminal "
                "(automounters, a data diode's landing directory)")
      ->needs(mp);
  cmd->add_flag("--no-activate", o->no_activate, "install but leave the current version active");
  cmd->add_option("--load", o->load,
                  "also load the version's images into this container runtime (podman or docker) before its "
                  "[activate] commands run")
      ->check(CLI::IsMember({"podman", "docker"}));
  auto rehearse = std::make_shared<bool>(false);
  auto scratch = std::make_shared<std::string>();
  CLI::Option* rh = cmd->add_flag("--rehearse", *rehearse,
                                  "a dry run: install into a scratch root in a network-free sandbox, activate there, "
                                  "and report every attempt to reach the network (see below)");
  rh->excludes(mp);
  cmd->add_option("--scratch", *scratch, "with --rehearse: where the scratch root is made (default $TMPDIR, else /tmp)")
      ->type_name("DIR")
      ->needs(rh);
  auto trace = std::make_shared<std::string>();
  cmd->add_option("--trace", *trace, "with --rehearse: also keep strace's log of the rehearsal in FILE")
      ->type_name("FILE")
      ->needs(rh);
  cmd->callback([&ctx, o, media_path, wait, rehearse, scratch, trace] {
    if (*rehearse) {
      ctx.run([&]() -> Status { return run_rehearsal(ctx, *o, *scratch, *trace); });
      return;
    }
    ctx.run([&]() -> Status {
      if (o->bundles.empty() && media_path->empty()) {
        return make_error(ErrorCode::kUsage, "give the bundle (the directory of every medium), or --media-path DRIVE");
      }
      ASSIGN_OR_RETURN(auto site, ctx.open_site());
      InstallOptions io;
      ASSIGN_OR_RETURN(io.gate, gate_options(*o));
      if (o->no_activate && !o->load.empty()) {
        return make_error(ErrorCode::kUsage, "--load happens on activation; it cannot go with --no-activate");
      }
      io.activate = !o->no_activate;
      io.load = o->load;
      io.say = [&ctx](const std::string& line) {
        ctx.printer.end_progress();
        ctx.printer.note("{}", line);
      };
      io.threads = o->threads;
      Timings timings;
      auto started = std::chrono::steady_clock::now();
      if (o->timings) {
        io.timings = &timings;
      }
      ProgressFn draw = ctx.printer.progress();
      if (draw) {
        io.progress = [draw](const ProgressEvent& e) {
          ProgressEvent relabeled = e;
          relabeled.stage = "install";
          draw(relabeled);
        };
      }
      std::filesystem::path bundle;
      if (!o->bundles.empty()) {
        bundle = o->bundles.front();
      }
      if (!media_path->empty()) {
        DriveOptions drive;
        drive.dir = *media_path;
        drive.wait = *wait;
        drive.say = io.say;
        ASSIGN_OR_RETURN(bundle, wait_for_first_medium(drive));
        bundle = bundle.parent_path();
        io.drive = drive;
      }
      auto out = install_bundle(*site, bundle, io);
      ctx.printer.end_progress();
      TRY(out);
      if (o->timings) {
        ctx.printer.print_timings(timings, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      }
      if (o->json) {
        nlohmann::json j = {{"deployment", out->name}, {"version", out->version}, {"bundle_id", out->bundle_id},
                            {"already_installed", out->already_installed}, {"activated", out->activated},
                            {"trust_changed", out->trust_changed},
                            {"files", out->files}, {"hardlinked", out->linked}, {"bytes", out->bytes},
                            {"previous", out->previous ? nlohmann::json(*out->previous) : nlohmann::json()},
                            {"media_bytes", out->media_bytes},
                            {"base", out->base ? nlohmann::json(*out->base) : nlohmann::json()},
                            {"base_bytes", out->base_bytes}, {"xor_bytes", out->xor_bytes}};
        if (out->rotation_state) {
          j["rotation_state"] = *out->rotation_state;  // settled once at install, never re-applied
        }
        fmt::print("{}\n", j.dump(2));
      } else if (out->already_installed) {
        fmt::print("{} {} is already installed from this bundle ({}, same index bytes); nothing to do, nothing "
                   "applied{}\n",
                   out->name, out->version, out->bundle_id,
                   out->rotation_state
                       ? fmt::format(" (its key rotation was settled once at install: {}; it is never re-applied)",
                                     *out->rotation_state)
                       : "");
      } else {
        fmt::print("installed {} {}: {} files, {} ({} unchanged, hardlinked){}\n", out->name, out->version, out->files,
                   cli::human_bytes(out->bytes), out->linked, out->activated ? "; now active" : "; not activated");
        if (out->base) {
          fmt::print("delta against {}: {} read from the media, {} read back from the base, {} rebuilt from XOR "
                     "frames\n",
                     *out->base, cli::human_bytes(out->media_bytes), cli::human_bytes(out->base_bytes),
                     cli::human_bytes(out->xor_bytes));
        }
      }
      return ok_status();
    });
  });
}

}  // namespace airlock::installer
