#include "installer/activation/activation.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/manifest/command.h"
#include "core/os/process_runner.h"
#include "installer/targets/targets.h"

namespace airlock::installer {

namespace {

using Clock = std::chrono::steady_clock;

Result<std::vector<std::string>> argv_for(const ActivationPlan& plan, const std::string& command) {
  if (plan.shell) {
    return std::vector<std::string>{"/bin/sh", "-c", command};
  }
  return manifest::split_command(command);
}

}  // namespace

Result<ActivationPlan> parse_activation(const std::string& activate_json) {
  ActivationPlan plan;
  const nlohmann::json j = nlohmann::json::parse(activate_json, nullptr, false);
  if (j.is_null()) {
    return plan;
  }
  auto bad = [] { return make_error(ErrorCode::kCorruption, "the version's [activate] record is malformed"); };
  if (!j.is_object()) {
    return bad();
  }
  try {
    plan.run = j.value("run", std::vector<std::string>{});
    plan.health = j.value("health", std::string());
    plan.timeout_seconds = j.value("timeout_seconds", 120u);
    plan.shell = j.value("shell", false);
  } catch (const nlohmann::json::exception&) {
    return bad();
  }
  if (plan.timeout_seconds == 0) {
    plan.timeout_seconds = 1;
  }
  return plan;
}

Result<ActivationReport> run_activation(const Site& site, const std::string& name, const std::string& version,
                                        const ActivationPlan& plan,
                                        const std::function<void(const std::string&)>& say) {
  ActivationReport report;
  const auto started = Clock::now();
  const stdfs::path dir = site.version_dir(name, version);
  os::ProcessOptions po;
  po.cwd = dir;
  po.stdout_to_stderr = true;
  po.env = {{"AIRLOCK_ROOT", site.root().string()},
            {"AIRLOCK_DEPLOYMENT_DIR", dir.string()},
            {"AIRLOCK_DEPLOYMENT", name},
            {"AIRLOCK_VERSION", version},
            {"HF_HUB_CACHE", (site.root() / "hf").string()},
            {"HF_HUB_OFFLINE", "1"}};
  const auto timeout = std::chrono::seconds(plan.timeout_seconds);
  auto failed = [&](std::string what) {
    return make_error(ErrorCode::kActivationFailed, "{} {}: {}", name, version, what);
  };

  for (std::size_t i = 0; i < plan.run.size(); ++i) {
    const std::string& command = plan.run[i];
    ASSIGN_OR_RETURN(std::vector<std::string> argv, argv_for(plan, command));
    say(fmt::format("activate {} {}: run [{}/{}] {}", name, version, i + 1, plan.run.size(), command));
    po.timeout = timeout;
    auto r = site.processes().run(argv, po);
    if (!r) {
      return failed(fmt::format("run[{}] '{}': {}", i, command, r.error().message()));
    }
    if (r->timed_out) {
      return failed(fmt::format("run[{}] '{}' did not finish within {} s and was killed", i, command,
                                plan.timeout_seconds));
    }
    if (!r->ok()) {
      return failed(fmt::format("run[{}] '{}' failed with {}", i, command, r->describe()));
    }
    ++report.commands;
  }

  if (!plan.health.empty()) {
    ASSIGN_OR_RETURN(std::vector<std::string> argv, argv_for(plan, plan.health));
    say(fmt::format("activate {} {}: health check '{}' (up to {} s)", name, version, plan.health,
                    plan.timeout_seconds));
    const auto deadline = Clock::now() + timeout;
    std::string last;
    while (true) {
      ++report.health_tries;
      po.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::max(deadline - Clock::now(), Clock::duration(std::chrono::milliseconds(100))));
      auto r = site.processes().run(argv, po);
      if (!r) {
        return failed(fmt::format("health check '{}': {}", plan.health, r.error().message()));
      }
      if (r->ok()) {
        break;
      }
      last = r->describe();
      if (Clock::now() + std::chrono::seconds(1) >= deadline) {
        return failed(fmt::format("health check '{}' did not pass within {} s ({} tries; last: {})", plan.health,
                                  plan.timeout_seconds, report.health_tries, last));
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

namespace {

// Runs the activation of NAME/VERSION and records the outcome.
Status activate_and_log(Site& site, const std::string& name, const std::string& version, const std::string& why,
                        const std::function<void(const std::string&)>& say) {
  const std::string target = name + "/" + version;
  ASSIGN_OR_RETURN(VersionMeta meta, site.ledger().version_meta(name, version));
  ASSIGN_OR_RETURN(ActivationPlan plan, parse_activation(meta.activate));
  if (plan.empty()) {
    return ok_status();
  }
  auto report = run_activation(site, name, version, plan, say);
  if (!report) {
    (void)site.log("activation", target, "failed", why.empty() ? report.error().message()
                                                                : fmt::format("{}: {}", why, report.error().message()));
    return std::unexpected(report.error());
  }
  std::string detail = fmt::format("{} command(s) ran", report->commands);
  if (!plan.health.empty()) {
    detail += fmt::format(", health check passed on try {}", report->health_tries);
  }
  detail += fmt::format(", {:.1f} s", report->seconds);
  if (!why.empty()) {
    detail = why + ": " + detail;
  }
  TRY(site.log("activation", target, "ok", detail));
  say(fmt::format("activate {} {}: ok ({})", name, version, detail));
  return ok_status();
}

Status rebuild_targets(Site& site, const std::function<void(const std::string&)>& say) {
  ASSIGN_OR_RETURN(TargetsSummary sum, sync_targets(site));
  for (const std::string& note : sum.notes) {
    say("note: " + note);
  }
  for (const std::string& c : sum.conflicts) {
    say("conflict: " + c);
  }
  if (!sum.left_alone.empty()) {
    say(fmt::format("note: {} path(s) in the install targets are not Airlock's and were left alone "
                    "('airlock-installer targets' lists them)",
                    sum.left_alone.size()));
  }
  return ok_status();
}

}  // namespace

Status bring_up(Site& site, const std::string& name, const std::string& version,
                const std::optional<std::string>& previous, bool roll_back,
                const std::function<void(const std::string&)>& say, const std::string& load) {
  if (Status targets = rebuild_targets(site, say); !targets) {
    // The version is committed and active; the targets are derived and the
    // next command retries them. Its [activate] commands would read stale
    // targets, so they do not run: that, and only that, is the failure.
    const std::string why = targets_retry_text(targets.error());
    (void)site.log("targets", name + "/" + version, "failed", why);
    if (targets.error().code() == ErrorCode::kInterrupted) {
      return targets;
    }
    ASSIGN_OR_RETURN(VersionMeta meta, site.ledger().version_meta(name, version));
    auto plan = parse_activation(meta.activate);
    if (plan && plan->empty() && load.empty()) {
      say("warning: " + why);
      return ok_status();
    }
    return make_error(ErrorCode::kActivationFailed,
                      "{} {} is installed and active, but its activation did not run: {}; once the targets are "
                      "rebuilt, run its [activate] commands by hand or re-activate it with 'airlock-installer "
                      "rollback {}' and back",
                      name, version, why, name);
  }
  Status up = ok_status();
  if (!load.empty()) {
    up = load_images(site, name, version, load, say);
    if (!up) {
      const std::string why = up.error().message();
      (void)site.log("load", name + "/" + version, "failed", why);
      up = make_error(up.error().code() == ErrorCode::kInterrupted ? ErrorCode::kInterrupted
                                                                    : ErrorCode::kActivationFailed,
                      "{} {}: {}", name, version, why);
    } else {
      TRY(site.log("load", name + "/" + version, "ok", fmt::format("images loaded into {}", load)));
    }
  }
  if (up) {
    up = activate_and_log(site, name, version, "", say);
  }
  if (up || !roll_back) {
    return up;
  }
  const std::string reason = up.error().message();
  if (up.error().code() == ErrorCode::kInterrupted) {
    return up;  // the operator stopped it: no automatic decision
  }
  TRY(mark_targets_dirty(site));
  if (previous && *previous != version) {
    TRY(site.ledger().with_transaction([&]() -> Status {
      TRY(site.ledger().set_active(name, *previous));
      return site.log("rollback", name + "/" + *previous, "ok",
                      fmt::format("automatic: {} failed activation: {}", version, reason));
    }));
    TRY(site.switch_current(name, *previous));
    if (Status targets = rebuild_targets(site, say); !targets) {
      say("warning: " + targets_retry_text(targets.error()));
    }
    say(fmt::format("activation of {} {} failed; rolled back to {}", name, version, *previous));
    Status again = activate_and_log(site, name, *previous, fmt::format("re-activated after {} failed", version), say);
    if (!again) {
      return make_error(ErrorCode::kActivationFailed,
                        "{}; rolled back to {}, but re-activating it failed too: {}", reason, *previous,
                        again.error().message());
    }
    return make_error(ErrorCode::kActivationFailed, "{}; rolled back to {} {}, which is active again", reason, name,
                      *previous);
  }
  TRY(site.ledger().with_transaction([&]() -> Status {
    TRY(site.ledger().clear_active(name));
    return site.log("deactivate", name + "/" + version, "ok",
                    fmt::format("activation failed and there is no earlier version: {}", reason));
  }));
  TRY(site.clear_current(name));
  if (Status targets = rebuild_targets(site, say); !targets) {
    say("warning: " + targets_retry_text(targets.error()));
  }
  return make_error(ErrorCode::kActivationFailed,
                    "{}; there is no earlier version to roll back to, so no version of {} is active (the files stay "
                    "installed: 'airlock-installer rollback {} --to {}' retries)",
                    reason, name, name, version);
}

}  // namespace airlock::installer
