#pragma once
// The media plan in a bundle's header: how `create --media` laid the volumes
// out over removable media (one directory per medium, disc01/, disc02/, ...,
// each with a copy of the index). Signed with the header, so the installer
// can say which medium is which and what is still needed. Absent for a
// bundle written to one directory. Layout and rules: docs/FORMAT.md §2
// ("Media").

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/base/error.h"

namespace airlock::format {

inline constexpr std::uint32_t k_max_media = 999;
inline constexpr const char* k_medium_label_name = "MEDIUM.txt";

struct MediaPlan {
  std::string preset;          // "bd25", "usb32g", ... or "custom"
  std::uint64_t capacity = 0;  // usable bytes per medium, as planned
  std::uint32_t count = 0;     // media in the set, 1..k_max_media
  // The medium (1-based) of each volume, in volume order: non-decreasing,
  // each 1..count. A medium may hold no volume (disc 1 with the installers
  // when the first volume did not fit next to them).
  std::vector<std::uint32_t> volume_media;

  bool operator==(const MediaPlan&) const = default;
};

// "disc01" ... "disc99", then "disc100" ... "disc999": the directory of
// medium n (1-based).
std::string medium_dir_name(std::uint32_t n);

// Indices (0-based) of the volumes on medium n (1-based).
std::vector<std::size_t> volumes_on_medium(const MediaPlan& plan, std::uint32_t n);

nlohmann::json media_to_json(const MediaPlan& plan);
// kCorruption naming what is wrong; `volumes` is the header's volume count.
Result<MediaPlan> parse_media(const nlohmann::json& j, std::size_t volumes);

}  // namespace airlock::format
