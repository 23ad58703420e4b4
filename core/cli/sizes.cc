#include "core/cli/sizes.h"

#include <cctype>
#include <string>

namespace airlock::cli {

Result<std::uint64_t> parse_size(std::string_view text) {
  std::string t;
  for (char c : text) {
    t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (t == "fat32") return (4ull << 30) - 1;
  if (t == "dvd") return 4'700'372'992ull;
  if (t == "dvd-dl") return 8'543'666'176ull;
  if (t == "bd25") return 25'025'314'816ull;
  if (t == "bd50") return 50'050'629'632ull;
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
    if (n > (1ull << 50)) {
      return make_error(ErrorCode::kInvalidArgument, "size '{}' is too large", text);
    }
    n = n * 10 + static_cast<std::uint64_t>(t[i] - '0');
    ++i;
  }
  std::string suffix = t.substr(i);
  if (i == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "bad size '{}' (use e.g. 700M, 4G, or a preset: fat32, dvd, dvd-dl, bd25, bd50)", text);
  }
  std::uint64_t unit = 0;
  if (suffix.empty() || suffix == "b") unit = 1;
  else if (suffix == "k" || suffix == "kb" || suffix == "kib") unit = 1ull << 10;
  else if (suffix == "m" || suffix == "mb" || suffix == "mib") unit = 1ull << 20;
  else if (suffix == "g" || suffix == "gb" || suffix == "gib") unit = 1ull << 30;
  else if (suffix == "t" || suffix == "tb" || suffix == "tib") unit = 1ull << 40;
  else {
    return make_error(ErrorCode::kInvalidArgument,
                      "bad size '{}' (use e.g. 700M, 4G, or a preset: fat32, dvd, dvd-dl, bd25, bd50)", text);
  }
  if (unit != 0 && n > UINT64_MAX / unit) {
    return make_error(ErrorCode::kInvalidArgument, "size '{}' is too large", text);
  }
  return n * unit;
}

}  // namespace airlock::cli
