// core/oci/ref.h: the image reference grammar both programs use, and platforms.
#include "core/oci/ref.h"

#include <string>

#include <catch2/catch.hpp>

namespace airlock::oci {
namespace {

ImageRef parse_ok(std::string_view text) {
  auto r = parse_image_ref(text);
  INFO(text << ": " << (r ? std::string() : r.error().message()));
  REQUIRE(r.has_value());
  return *r;
}

void parse_bad(std::string_view text, std::string_view needle, ErrorCode code = ErrorCode::kInvalidArgument) {
  auto r = parse_image_ref(text);
  INFO(text);
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().message());
  CHECK(r.error().code() == code);
  CHECK(r.error().message().find(needle) != std::string::npos);
}

}  // namespace

TEST_CASE("oci ref: Docker Hub short forms normalize to docker.io", "[oci]") {
  ImageRef a = parse_ok("vllm/vllm-openai:v0.6.3");
  CHECK(a.registry == "docker.io");
  CHECK(a.repository == "vllm/vllm-openai");
  CHECK(a.tag == "v0.6.3");
  CHECK(a.full() == "docker.io/vllm/vllm-openai:v0.6.3");
  CHECK(a.api_host() == "registry-1.docker.io");

  ImageRef b = parse_ok("ubuntu");
  CHECK(b.full() == "docker.io/library/ubuntu:latest");
  CHECK(b.reference() == "latest");
  CHECK(parse_ok("docker.io/library/ubuntu:22.04").full() == "docker.io/library/ubuntu:22.04");
  CHECK(parse_ok("docker.io/ubuntu:22.04").full() == "docker.io/library/ubuntu:22.04");
  CHECK(parse_ok("index.docker.io/ubuntu").full() == "docker.io/library/ubuntu:latest");
}

TEST_CASE("oci ref: hosts, ports, tags and digests", "[oci]") {
  const std::string hex(64, 'a');
  ImageRef a = parse_ok("127.0.0.1:5000/engine:v1");
  CHECK(a.registry == "127.0.0.1:5000");
  CHECK(a.repository == "engine");  // no library/ outside Docker Hub
  CHECK(a.api_host() == "127.0.0.1:5000");

  ImageRef b = parse_ok("nvcr.io/nvidia/tritonserver@sha256:" + hex);
  CHECK(b.tag.empty());
  CHECK(b.digest == "sha256:" + hex);
  CHECK(b.reference() == "sha256:" + hex);
  CHECK(b.full() == "nvcr.io/nvidia/tritonserver@sha256:" + hex);

  ImageRef c = parse_ok("localhost/a/b/c:1.0-rc_2@sha256:" + hex);
  CHECK(c.registry == "localhost");
  CHECK(c.repository == "a/b/c");
  CHECK(c.tag == "1.0-rc_2");
  CHECK(c.reference() == "sha256:" + hex);  // the digest wins; the tag stays for the annotation

  CHECK(parse_ok("[::1]:5000/x:y").registry == "[::1]:5000");
  CHECK(parse_ok("ghcr.io/org/my__name-x.y:tag").repository == "org/my__name-x.y");
  CHECK(parse_ok("Registry.Example.COM/x").registry == "Registry.Example.COM");
}

TEST_CASE("oci ref: invalid references are refused with a reason", "[oci]") {
  const std::string hex(64, 'a');
  parse_bad("", "empty");
  parse_bad("host.io/Engine:v1", "'Engine' is not a valid repository name component");
  parse_bad("host.io/engine:-v1", "'-v1' is not a valid tag");
  parse_bad("host.io/engine:" + std::string(129, 'a'), "is not a valid tag");
  parse_bad("host.io/engine/", "'' is not a valid repository name component");
  parse_bad("host.io//engine", "'' is not a valid repository name component");
  parse_bad("host.io/a..b", "'a..b' is not a valid repository name component");
  parse_bad("host.io/a_-b", "'a_-b' is not a valid repository name component");
  parse_bad("host.io:99999/x", "is not a registry host[:port]");
  parse_bad("-bad.io/x", "is not a registry host[:port]");
  parse_bad("host.io/", "no repository name");
  parse_bad("host.io/x y", "space");
  parse_bad("host.io/x@sha512:" + std::string(128, 'a'), "digest algorithm 'sha512' is not supported",
            ErrorCode::kUnsupported);
  parse_bad("host.io/x@sha256:" + std::string(64, 'A'), "is not a digest");
  parse_bad("host.io/x@sha256:" + hex.substr(1), "is not a digest");
  parse_bad("host.io/x@" + hex, "is not a digest");
}

TEST_CASE("oci ref: platforms and matching", "[oci]") {
  auto p = parse_platform("linux/arm64/v8");
  REQUIRE(p.has_value());
  CHECK(p->str() == "linux/arm64/v8");
  CHECK_FALSE(parse_platform("linux").has_value());
  CHECK_FALSE(parse_platform("linux/").has_value());
  CHECK_FALSE(parse_platform("linux/arm/v7/x").has_value());
  CHECK_FALSE(parse_platform("linux/am d64").has_value());

  const Platform amd64{"linux", "amd64", ""};
  const Platform arm64{"linux", "arm64", ""};
  const Platform arm64v8{"linux", "arm64", "v8"};
  const Platform armv7{"linux", "arm", "v7"};
  const Platform armv6{"linux", "arm", "v6"};
  CHECK(platform_matches(amd64, amd64));
  CHECK_FALSE(platform_matches(amd64, arm64));
  CHECK(platform_matches(arm64, arm64v8));    // no variant asked for: any
  CHECK(platform_matches(arm64v8, arm64));    // v8 is arm64's default
  CHECK(platform_matches(armv7, armv7));
  CHECK_FALSE(platform_matches(armv7, armv6));
  CHECK_FALSE(platform_matches(Platform{"windows", "amd64", ""}, amd64));
}

TEST_CASE("oci ref: the grammar's parts for names that are built", "[oci]") {
  CHECK(is_path_component("vllm-openai"));
  CHECK(is_path_component("a__b.c--d"));
  CHECK_FALSE(is_path_component("a___b"));
  CHECK_FALSE(is_path_component("-a"));
  CHECK_FALSE(is_path_component("Ubuntu"));
  CHECK_FALSE(is_path_component(""));
  CHECK(is_repository("team/airlock/demo/model"));
  CHECK_FALSE(is_repository("team//model"));
  CHECK_FALSE(is_repository("team/"));
  CHECK(is_tag("v0.6.3"));
  CHECK(is_tag("_x"));
  CHECK(is_tag(std::string(128, 'a')));
  CHECK_FALSE(is_tag(std::string(129, 'a')));
  CHECK_FALSE(is_tag(".x"));
  CHECK_FALSE(is_tag("-x"));
  CHECK_FALSE(is_tag("a+b"));
}

}  // namespace airlock::oci
