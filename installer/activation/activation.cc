#include "installer/activation/activation.h"

#include <chrono>
#include <cstdint>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/manifest/command.h"
#include "core/os/process_runner.h"

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
  // A timeout is a whole number of seconds that fits the plan's field; a
  // negative or fractional one would otherwise wrap or truncate.
  if (j.contains("timeout_seconds") &&
      (!j["timeout_seconds"].is_number_unsigned() || j["timeout_seconds"].get<std::uint64_t>() > UINT32_MAX)) {
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

}  // namespace airlock::installer
