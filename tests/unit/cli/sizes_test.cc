#include "cli/sizes.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace airlock::cli {

TEST_CASE("sizes: K/M/G/T are powers of 1024, KB/MB/GB/TB of 1000, presets are exact", "[cli]") {
  struct Case {
    std::string text;
    std::uint64_t bytes;
  };
  const std::vector<Case> cases = {
      {"8M", 8ull << 20},
      {"4G", 4ull << 30},
      {"700MB", 700'000'000ull},
      {"700MiB", 700ull << 20},
      {"123", 123},
      {"123b", 123},
      {"0", 0},
      {"1K", 1024},
      {"16kb", 16'000ull},
      {"16KiB", 16ull << 10},
      {"4.7GB", 4'700'000'000ull},
      {"4.7gb", 4'700'000'000ull},
      {"25GB", 25'000'000'000ull},
      {"4.5G", (9ull << 30) / 2},
      {"4.7G", 5046586572ull},  // 4.7 * 2^30 = 5046586572.8, rounded down
      {"0.5M", 512ull << 10},
      {"1.0T", 1ull << 40},
      {"2TB", 2'000'000'000'000ull},
      {"2T", 2ull << 40},
      {"8m", 8ull << 20},
      {"4gib", 4ull << 30},
      {"fat32", 4294967295ull},
      {"FAT32", 4294967295ull},
      {"dvd", 4700372992ull},
      {"dvd-dl", 8543666176ull},
      {"bd25", 25025314816ull},
      {"BD25", 25025314816ull},
      {"bd50", 50050629632ull},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto r = parse_size(c.text);
    REQUIRE(r.has_value());
    CHECK(*r == c.bytes);
  }
}

TEST_CASE("sizes: malformed sizes are kInvalidArgument", "[cli]") {
  for (std::string bad : {"", "12Q", "M", "-1", "+1", "1.5", "1.5b", ".5G", "1.G", "1..5G", "1.5.5G", "4,7G", "4 G",
                          " 4G", "4G ", "G4", "0x10", "4GG", "4MBs", "dvd5", "fat16", "99999999999999999999",
                          "1.0000000000000000001G"}) {
    INFO("'" << bad << "'");
    auto r = parse_size(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
    CHECK(r.error().message().find(bad) != std::string::npos);
  }
}

TEST_CASE("sizes: a size that does not fit in 64 bits is an error, not a wrapped value", "[cli]") {
  // 2^24 TiB = 2^64 bytes and 2^34 GiB = 2^64 bytes: both wrap to 0 in a u64.
  for (std::string big : {"16777216T", "17179869184G", "20000000T"}) {
    INFO(big);
    auto r = parse_size(big);
    if (r.has_value()) {
      FAIL_CHECK(big << " parsed as " << *r << " bytes");
    } else {
      CHECK(r.error().code() == ErrorCode::kInvalidArgument);
    }
  }
  // The largest values that do fit still parse exactly.
  auto r = parse_size("16777215T");
  REQUIRE(r.has_value());
  CHECK(*r == 16777215ull << 40);
}

}  // namespace airlock::cli
