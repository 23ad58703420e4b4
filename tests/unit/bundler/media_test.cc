#include "bundler/media.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/format/bundle_writer.h"

namespace airlock::bundler {
namespace {

constexpr std::uint64_t k_mib = 1ull << 20;

format::VolumeInfo vol(std::uint64_t size) {
  format::VolumeInfo v;
  v.size = size;
  return v;
}

TEST_CASE("media: presets give raw and usable bytes, FAT32's largest file, the allocation unit", "[media]") {
  auto bd25 = parse_medium("BD25");
  REQUIRE(bd25.has_value());
  CHECK(bd25->preset == "bd25");
  CHECK(bd25->raw == 25'025'314'816ull);
  CHECK(bd25->usable == 25'025'314'816ull - 64 * k_mib);
  CHECK(bd25->max_file == (4ull << 30) - 1);
  CHECK(bd25->granule == 2048);
  auto dvd = parse_medium("dvd");
  REQUIRE(dvd.has_value());
  CHECK(dvd->raw == 4'700'372'992ull);  // more than 4 GiB - 1: a dvd holds two volumes
  auto usb = parse_medium("usb32g");
  REQUIRE(usb.has_value());
  CHECK(usb->usable == 30'400'000'000ull);
  CHECK(usb->granule == 128 * 1024);
  auto custom = parse_medium("12M");
  REQUIRE(custom.has_value());
  CHECK(custom->preset == "custom");
  CHECK(custom->usable == 12 * k_mib);
  for (const char* name : {"cd", "dvd-dl", "bd50", "bd100", "usb8g", "usb16g", "usb64g", "usb128g"}) {
    INFO(name);
    auto m = parse_medium(name);
    REQUIRE(m.has_value());
    CHECK(m->usable < m->raw);
    CHECK(medium_preset_names().find(name) != std::string::npos);
  }
}

TEST_CASE("media: what is not a medium is a usage error naming the presets", "[media]") {
  for (const char* bad : {"floppy", "fat32", "", "-1", "5M"}) {
    INFO(bad);
    auto m = parse_medium(bad);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().code() == ErrorCode::kUsage);
  }
  CHECK_THAT(parse_medium("floppy").error().message(), Catch::Contains("bd25"));
  CHECK_THAT(parse_medium("5M").error().message(), Catch::Contains("below the smallest medium"));
}

TEST_CASE("media: files round up to the allocation unit", "[media]") {
  auto cd = *parse_medium("cd");
  CHECK(on_medium(cd, 0) == 0);
  CHECK(on_medium(cd, 1) == 2048);
  CHECK(on_medium(cd, 2048) == 2048);
  CHECK(on_medium(cd, 2049) == 4096);
}

TEST_CASE("media: the packer fills each medium, then starts the next", "[media]") {
  auto spec = *parse_medium("20M");
  MediaPacker packer(spec, 2 * k_mib, 0, 0, 10);
  std::vector<format::VolumeInfo> done;
  // First volume: the whole room of medium 1.
  CHECK(packer.next_limit(done).value() == 18 * k_mib);
  done.push_back(vol(17 * k_mib));  // a volume ends before its limit (a pack did not fit)
  // 1 MiB left on medium 1 is less than a smallest volume: medium 2.
  CHECK(packer.next_limit(done).value() == 18 * k_mib);
  done.push_back(vol(10 * k_mib));
  // 8 MiB left on medium 2.
  CHECK(packer.next_limit(done).value() == 8 * k_mib);
  done.push_back(vol(8 * k_mib));
  done.push_back(vol(5 * k_mib));
  auto plan = packer.plan(done);
  CHECK(plan.preset == "custom");
  CHECK(plan.capacity == 20 * k_mib);
  CHECK(plan.count == 3);
  CHECK(plan.volume_media == std::vector<std::uint32_t>{1, 2, 2, 3});
}

TEST_CASE("media: medium 1 keeps room for the installers, and limits honour the largest file and --volume-size",
          "[media]") {
  auto spec = *parse_medium("20M");
  MediaPacker first(spec, 2 * k_mib, 17 * k_mib, 0, 10);
  std::vector<format::VolumeInfo> done;
  // 1 MiB left beside the installers: the first volume starts medium 2.
  CHECK(first.next_limit(done).value() == 18 * k_mib);
  done.push_back(vol(18 * k_mib));
  CHECK(first.plan(done).volume_media == std::vector<std::uint32_t>{2});
  CHECK(first.plan(done).count == 2);

  MediaPacker capped(spec, 2 * k_mib, 0, 6 * k_mib, 10);
  CHECK(capped.next_limit({}).value() == 6 * k_mib);

  auto bd = *parse_medium("bd25");
  MediaPacker big(bd, 64 * k_mib, 0, 0, 10);
  CHECK(big.next_limit({}).value() == bd.max_file);
}

TEST_CASE("media: more media than allowed, or a medium too small, is refused", "[media]") {
  auto spec = *parse_medium("20M");
  MediaPacker two(spec, 2 * k_mib, 0, 0, 2);
  std::vector<format::VolumeInfo> done{vol(18 * k_mib), vol(18 * k_mib)};
  auto r = two.next_limit(done);
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message(), Catch::Contains("needs more than 2 custom media"));

  MediaPacker tight(spec, 17 * k_mib, 0, 0, 10);
  auto t = tight.next_limit({});
  REQUIRE_FALSE(t.has_value());
  CHECK_THAT(t.error().message(), Catch::Contains("cannot hold a smallest volume"));
}

TEST_CASE("media: the index and label reserves grow with what they must hold", "[media]") {
  const std::uint64_t bd = 25'000'000'000ull;
  const std::uint64_t small = index_reserve(1 << 30, 10, bd, (4ull << 30) - 1);
  const std::uint64_t large = index_reserve(140ull << 30, 10, bd, (4ull << 30) - 1);
  CHECK(small >= 256 << 10);
  CHECK(large > small);
  // 140 GiB at one 80-byte record per 64 KiB: about 185 MB, under 1 % of a disc.
  CHECK(large < bd / 100);
  CHECK(index_reserve(1 << 30, 10000, bd, 1 << 30) > index_reserve(1 << 30, 10, bd, 1 << 30));
  CHECK(label_reserve(12 * k_mib, 4 * k_mib) % 4096 == 0);
  CHECK(label_reserve(bd, 4 * k_mib) > label_reserve(bd, 1 << 30));
}

TEST_CASE("media: MEDIUM.txt names the bundle, the medium and its volumes", "[media]") {
  format::Header h;
  h.name = "llm";
  h.version = "2";
  h.bundle_id = std::string(32, 'a');
  h.volumes = {{"llm-2.vol001.tar", 100, std::string(64, '1')},
               {"llm-2.vol002.tar", 200, std::string(64, '2')},
               {"llm-2.vol003.tar", 300, std::string(64, '3')}};
  h.media = format::MediaPlan{"custom", 12 * k_mib, 3, {1, 2, 2}};
  const std::string label = medium_label(h, *parse_medium("12M"), 2, "llm-2.airlock", std::string(64, 'f'));
  CHECK_THAT(label, Catch::StartsWith("Airlock bundle llm 2\nbundle id aaaa"));
  CHECK_THAT(label, Catch::Contains("\nmedium 2 of 3 (custom, 12582912 usable bytes each"));
  CHECK_THAT(label, Catch::Contains("  llm-2.airlock  sha256 ffff"));
  CHECK_THAT(label, Catch::Contains("volumes on this medium (2 of 3):\n  llm-2.vol002.tar  200 bytes  sha256 2222"));
  CHECK_THAT(label, Catch::Contains("  llm-2.vol003.tar  300 bytes"));
  CHECK(label.find("vol001") == std::string::npos);
  CHECK(label.size() <= label_reserve(12 * k_mib, 4 * k_mib));
  CHECK_THAT(medium_label(h, *parse_medium("12M"), 3, "llm-2.airlock", ""),
             Catch::Contains("volumes on this medium: none"));
}

}  // namespace
}  // namespace airlock::bundler
