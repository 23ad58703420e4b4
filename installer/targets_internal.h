#pragma once
// Shared by the four target builders (targets.cc, targets_hf.cc,
// targets_images.cc, targets_apt.cc); not used elsewhere.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/format/sources.h"
#include "installer/ledger/ledger.h"
#include "installer/site.h"
#include "installer/targets.h"

namespace airlock::installer::targets_internal {

using nlohmann::json;

inline constexpr std::uint64_t k_max_index_bytes = 64 << 20;

// One installed version as the targets see it.
struct Installed {
  std::string name;
  std::string version;
  bool active = false;
  stdfs::path dir;
  std::vector<format::Source> sources;  // decoded from the ledger (empty before schema 2 / issue 5)
  std::vector<FileRecord> files;
};

using format::find_source;

// ROOT/hf: a snapshot per installed version, refs from the active ones.
Status sync_hf(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum);
// ROOT/images, ROOT/apt, ROOT/wheels: what the active versions ship.
Status sync_images(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum);
Status sync_apt(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum);
Status sync_wheels(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum);

}  // namespace airlock::installer::targets_internal
