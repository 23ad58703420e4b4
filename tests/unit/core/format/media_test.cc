#include "core/format/media.h"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/format/index.h"

namespace airlock::format {
namespace {

using nlohmann::json;

Header media_header() {
  Header h;
  h.bundle_id = "0123456789abcdef0123456789abcdef";
  h.name = "llm";
  h.version = "2";
  h.sequence = 1;
  h.created = 1700000000;
  h.suite = "none";
  h.tool = "airlock-bundler 0.1.0";
  for (int i = 1; i <= 3; ++i) {
    h.volumes.push_back(VolumeInfo{"llm-2.vol00" + std::to_string(i) + ".tar", 4194304, std::string(64, 'a')});
  }
  h.media = MediaPlan{"bd25", 24958205952ull, 2, {1, 1, 2}};
  return h;
}

TEST_CASE("media plan: written into the header and read back", "[format][media]") {
  const Header h = media_header();
  const std::string text = serialize_header(h);
  CHECK_THAT(text, Catch::Contains(R"("media":{"capacity":24958205952,"count":2,"preset":"bd25","volumes":[1,1,2]})"));
  auto back = parse_header(as_bytes(text));
  REQUIRE(back.has_value());
  REQUIRE(back->media.has_value());
  CHECK(*back->media == *h.media);

  Header plain = h;
  plain.media.reset();
  CHECK(serialize_header(plain).find("media") == std::string::npos);  // absent: bytes as before
  CHECK_FALSE(parse_header(as_bytes(serialize_header(plain)))->media.has_value());
}

TEST_CASE("media plan: any other shape is refused as corruption", "[format][media]") {
  const json good = media_to_json(*media_header().media);
  REQUIRE(parse_media(good, 3).has_value());
  auto refused = [](const json& j, std::size_t volumes, const char* says) {
    INFO(j.dump());
    auto r = parse_media(j, volumes);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
    CHECK_THAT(r.error().message(), Catch::Contains(says));
  };
  refused(good, 2, "places 3 volume(s); the header lists 2");
  json j = good;
  j["extra"] = 1;
  refused(j, 3, "exactly preset, capacity, count and volumes");
  j = good;
  j.erase("count");
  refused(j, 3, "exactly");
  j = good;
  j["count"] = 0;
  refused(j, 3, "count 1..999");
  j["count"] = 1000;
  refused(j, 3, "count 1..999");
  j = good;
  j["capacity"] = 0;
  refused(j, 3, "capacity must be positive");
  j = good;
  j["capacity"] = -5;
  refused(j, 3, "exactly");
  j = good;
  j["preset"] = "../x";
  refused(j, 3, "not a preset name");
  j["preset"] = std::string(33, 'a');
  refused(j, 3, "not a preset name");
  j = good;
  j["volumes"] = {2, 1, 2};
  refused(j, 3, "non-decreasing");
  j["volumes"] = {1, 1, 3};
  refused(j, 3, "1..count");
  j["volumes"] = {0, 1, 2};
  refused(j, 3, "1..count");
  j["volumes"] = {1, "1", 2};
  refused(j, 3, "medium numbers");
  refused(json::array(), 3, "exactly");
}

TEST_CASE("media plan: directory names and the volumes of a medium", "[format][media]") {
  CHECK(medium_dir_name(1) == "disc01");
  CHECK(medium_dir_name(42) == "disc42");
  CHECK(medium_dir_name(100) == "disc100");
  const MediaPlan plan{"custom", 1, 3, {1, 1, 3, 3}};
  CHECK(volumes_on_medium(plan, 1) == std::vector<std::size_t>{0, 1});
  CHECK(volumes_on_medium(plan, 2).empty());
  CHECK(volumes_on_medium(plan, 3) == std::vector<std::size_t>{2, 3});
}

}  // namespace
}  // namespace airlock::format
