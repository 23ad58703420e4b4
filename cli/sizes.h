#pragma once
// Volume size options: "8M", "4.5G", "4.7GB", plain bytes, or a media preset.

#include <cstdint>
#include <string_view>

#include "core/base/error.h"

namespace airlock::cli {

// Presets: fat32 = 4 GiB - 1; dvd = 4,700,372,992 (DVD-5); dvd-dl = 8,543,666,176;
// bd25 = 25,025,314,816; bd50 = 50,050,629,632 (BD-R single/dual layer).
// Suffixes K, M, G, T (and KiB, MiB, GiB, TiB) are powers of 1024; KB, MB,
// GB, TB are powers of 1000, as media are labelled. Case does not matter. A
// decimal fraction is allowed with a unit ("4.5G"); the result is rounded
// down to whole bytes. kInvalidArgument naming the text otherwise.
Result<std::uint64_t> parse_size(std::string_view text);

}  // namespace airlock::cli
