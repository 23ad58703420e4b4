#include "core/format/media.h"

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/names/names.h"

namespace airlock::format {

namespace {

// A JSON integer that is not negative (a parsed one is "unsigned"; one
// built in code may be "integer").
std::optional<std::uint64_t> count_of(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    return v.get<std::uint64_t>();
  }
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  return std::nullopt;
}

std::unexpected<Error> media_corrupt(std::string_view what) {
  return std::unexpected(Error(ErrorCode::kCorruption, fmt::format("index: header.media: {}", what)));
}

}  // namespace

std::string medium_dir_name(std::uint32_t n) { return fmt::format("disc{:02}", n); }

std::vector<std::size_t> volumes_on_medium(const MediaPlan& plan, std::uint32_t n) {
  std::vector<std::size_t> out;
  for (std::size_t v = 0; v < plan.volume_media.size(); ++v) {
    if (plan.volume_media[v] == n) {
      out.push_back(v);
    }
  }
  return out;
}

nlohmann::json media_to_json(const MediaPlan& plan) {
  return {{"preset", plan.preset}, {"capacity", plan.capacity}, {"count", plan.count}, {"volumes", plan.volume_media}};
}

Result<MediaPlan> parse_media(const nlohmann::json& j, std::size_t volumes) {
  if (!j.is_object() || j.size() != 4) {
    return media_corrupt("must be an object with exactly preset, capacity, count and volumes");
  }
  MediaPlan plan;
  auto preset = j.find("preset");
  auto capacity = j.find("capacity");
  auto count = j.find("count");
  auto vols = j.find("volumes");
  if (preset == j.end() || !preset->is_string() || capacity == j.end() || !count_of(*capacity) ||
      count == j.end() || !count_of(*count) || vols == j.end() || !vols->is_array()) {
    return media_corrupt("must be an object with exactly preset, capacity, count and volumes");
  }
  plan.preset = preset->get<std::string>();
  if (plan.preset.empty() || plan.preset.size() > 32 || !format::names::is_deployment_name(plan.preset)) {
    return media_corrupt("preset is not a preset name ([a-z0-9._-], at most 32)");
  }
  plan.capacity = *count_of(*capacity);
  const std::uint64_t n = *count_of(*count);
  if (plan.capacity == 0 || n == 0 || n > k_max_media) {
    return media_corrupt(fmt::format("capacity must be positive and count 1..{}", k_max_media));
  }
  plan.count = static_cast<std::uint32_t>(n);
  if (vols->size() != volumes) {
    return media_corrupt(fmt::format("places {} volume(s); the header lists {}", vols->size(), volumes));
  }
  std::uint32_t last = 1;
  for (const nlohmann::json& m : *vols) {
    const std::optional<std::uint64_t> medium = count_of(m);
    if (!medium || *medium < last || *medium > plan.count) {
      return media_corrupt("volume media must be non-decreasing medium numbers 1..count");
    }
    last = static_cast<std::uint32_t>(*medium);
    plan.volume_media.push_back(last);
  }
  return plan;
}

}  // namespace airlock::format
