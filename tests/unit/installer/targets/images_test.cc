#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "installer/targets/targets.h"
#include "tests/support/temp_dir.h"

namespace airlock::installer {
namespace {

using nlohmann::json;

Status check(const json& index) {
  test::TempDir dir;
  const auto path = dir.path() / "index.json";
  std::ofstream(path) << index.dump();
  return check_image_index(path);
}

json index_with(json descriptor) { return {{"schemaVersion", 2}, {"manifests", json::array({std::move(descriptor)})}}; }

TEST_CASE("targets: a shipped image index is type-checked and its refs follow the name rules", "[targets][names]") {
  const std::string digest = "sha256:" + std::string(64, 'a');
  json good = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
               {"digest", digest},
               {"annotations", {{"org.opencontainers.image.ref.name", "127.0.0.1:5000/demo:1"}}}};
  CHECK(check(index_with(good)).has_value());
  auto refused = [&](const json& index, std::string_view needle) {
    Status st = check(index);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::kCorruption);
    INFO(st.error().message());
    CHECK(st.error().message().find(needle) != std::string::npos);
  };
  refused(json::array(), "not an OCI image index");
  refused(json{{"manifests", "x"}}, "not an OCI image index");
  refused(index_with("x"), "without a sha256 digest");
  json d = good;
  d["digest"] = 5;
  refused(index_with(d), "without a sha256 digest");
  d = good;
  d["mediaType"] = 1;
  refused(index_with(d), "mediaType");
  d = good;
  d["annotations"] = "x";
  refused(index_with(d), "not an image reference");
  for (const char* ref : {"reg.example/../../x:1", "reg.example/x:1\nInjected", "reg.example/a/..:1"}) {
    d = good;
    d["annotations"]["org.opencontainers.image.ref.name"] = ref;
    refused(index_with(d), "not an image reference");
  }
  d = good;
  d["annotations"]["org.opencontainers.image.ref.name"] = 7;
  refused(index_with(d), "not an image reference");
}

}  // namespace
}  // namespace airlock::installer
