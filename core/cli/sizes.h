#pragma once
// Volume size options: "8M", "4G", "700MB", plain bytes, or a media preset.

#include <cstdint>
#include <string_view>

#include "core/base/error.h"

namespace airlock::cli {

// Presets: fat32 = 4 GiB - 1; dvd = 4,700,372,992 (DVD-5); dvd-dl = 8,543,666,176;
// bd25 = 25,025,314,816; bd50 = 50,050,629,632 (BD-R single/dual layer).
// Suffixes K, M, G, T are powers of 1024 ("KiB"/"MiB" accepted too).
Result<std::uint64_t> parse_size(std::string_view text);

}  // namespace airlock::cli
