#pragma once
// Runs a version's [activate] table (docs/MANIFEST.md) on the isolated side:
// each `run` command in order, then `health` retried until `timeout`.
// Commands are split into words (core/manifest/command.h) and executed
// directly, or through /bin/sh -c when `shell = true`. Their environment
// adds AIRLOCK_ROOT, AIRLOCK_DEPLOYMENT_DIR (the version directory, also the
// working directory), AIRLOCK_DEPLOYMENT, AIRLOCK_VERSION, HF_HUB_CACHE
// (ROOT/hf) and HF_HUB_OFFLINE=1. Their output goes to our stderr.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "installer/site/site.h"

namespace airlock::installer {

struct ActivationPlan {
  std::vector<std::string> run;
  std::string health;  // empty: none
  std::uint32_t timeout_seconds = 120;
  bool shell = false;

  bool empty() const { return run.empty() && health.empty(); }
};

// From the payload's `activate` JSON ("null" gives an empty plan).
Result<ActivationPlan> parse_activation(const std::string& activate_json);

struct ActivationReport {
  std::size_t commands = 0;    // run commands that succeeded
  std::size_t health_tries = 0;
  double seconds = 0;
};

// kActivationFailed naming the command (index and text) and how it failed,
// or the health check and its last result when it never passed in time.
Result<ActivationReport> run_activation(const Site& site, const std::string& name, const std::string& version,
                                        const ActivationPlan& plan,
                                        const std::function<void(const std::string&)>& say);

}  // namespace airlock::installer
