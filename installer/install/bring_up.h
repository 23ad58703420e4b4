#pragma once
// Brings an activated version up: the install targets rebuilt, its images
// loaded when asked, its [activate] commands run (activation/activation.h),
// and, when they fail, the automatic roll back to the previous version.
// Shared by install (install.h) and the rollback command.

#include <functional>
#include <optional>
#include <string>

#include "core/base/error.h"
#include "installer/site/site.h"

namespace airlock::installer {

// After the ledger made NAME/VERSION active and `current` points at it:
// rebuilds the install targets, then runs the version's activation. When
// that fails and `roll_back` is set, the previous version (or none, if
// there was none) is made active again, the targets rebuilt and its own
// activation re-run; the ledger records each step. Returns
// kActivationFailed saying what failed and where the site now stands.
// With `load` ("podman" or "docker"), the version's images are loaded into
// that runtime before its commands run; a failed load counts as a failed
// activation.
Status bring_up(Site& site, const std::string& name, const std::string& version,
                const std::optional<std::string>& previous, bool roll_back,
                const std::function<void(const std::string&)>& say, const std::string& load = "");

}  // namespace airlock::installer
