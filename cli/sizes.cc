#include "cli/sizes.h"

#include <cctype>
#include <string>

namespace airlock::cli {

// GCC's 128-bit integer; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 u128;

namespace {

std::unexpected<Error> bad_size(std::string_view text) {
  return std::unexpected(Error(
      ErrorCode::kInvalidArgument,
      fmt::format("bad size '{}' (use e.g. 700M, 4.5G, 4.7GB, or a preset: fat32, dvd, dvd-dl, bd25, bd50)", text)));
}

}  // namespace

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
  // DIGITS [. DIGITS] [SUFFIX], computed exactly in 128 bits: the whole part
  // times the unit, plus the fraction times the unit, rounded down.
  std::size_t i = 0;
  u128 whole = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
    whole = whole * 10 + static_cast<unsigned>(t[i] - '0');
    if (whole > static_cast<u128>(UINT64_MAX)) {
      return make_error(ErrorCode::kInvalidArgument, "size '{}' is too large", text);
    }
    ++i;
  }
  if (i == 0) {
    return bad_size(text);
  }
  u128 frac = 0;
  u128 frac_scale = 1;
  if (i < t.size() && t[i] == '.') {
    ++i;
    const std::size_t start = i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
      if (i - start >= 18) {
        return bad_size(text);  // more precision than any byte count needs
      }
      frac = frac * 10 + static_cast<unsigned>(t[i] - '0');
      frac_scale *= 10;
      ++i;
    }
    if (i == start) {
      return bad_size(text);
    }
  }
  const std::string suffix = t.substr(i);
  std::uint64_t unit = 0;
  // Binary (K, M, G, T, KiB...) as sizes in this tool always were; decimal
  // for the SI spellings (KB, MB, GB, TB), which is how discs are labelled:
  // "4.7GB" is a DVD's 4.7 billion bytes, not 4.7 GiB (which would not fit).
  if (suffix.empty() || suffix == "b") unit = 1;
  else if (suffix == "k" || suffix == "kib") unit = 1ull << 10;
  else if (suffix == "m" || suffix == "mib") unit = 1ull << 20;
  else if (suffix == "g" || suffix == "gib") unit = 1ull << 30;
  else if (suffix == "t" || suffix == "tib") unit = 1ull << 40;
  else if (suffix == "kb") unit = 1'000ull;
  else if (suffix == "mb") unit = 1'000'000ull;
  else if (suffix == "gb") unit = 1'000'000'000ull;
  else if (suffix == "tb") unit = 1'000'000'000'000ull;
  else {
    return bad_size(text);
  }
  if (unit == 1 && frac != 0) {
    return make_error(ErrorCode::kInvalidArgument, "bad size '{}': a byte count is a whole number", text);
  }
  const u128 bytes = whole * unit + frac * unit / frac_scale;
  if (bytes > static_cast<u128>(UINT64_MAX)) {
    return make_error(ErrorCode::kInvalidArgument, "size '{}' is too large", text);
  }
  return static_cast<std::uint64_t>(bytes);
}

}  // namespace airlock::cli
