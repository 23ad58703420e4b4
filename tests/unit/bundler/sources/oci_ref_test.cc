#include "bundler/sources/oci_ref.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "bundler/sources/oci_registry.h"
#include "core/net/http.h"
#include "tests/support/temp_dir.h"

namespace airlock::bundler::oci {
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

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) {
      m_old = old;
    }
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (m_old) {
      ::setenv(m_name, m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name);
    }
  }

 private:
  const char* m_name;
  std::optional<std::string> m_old;
};

}  // namespace

TEST_CASE("oci_ref: Docker Hub short forms normalize to docker.io", "[oci]") {
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

TEST_CASE("oci_ref: hosts, ports, tags and digests", "[oci]") {
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

TEST_CASE("oci_ref: invalid references are refused with a reason", "[oci]") {
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

TEST_CASE("oci_ref: loopback registries", "[oci]") {
  CHECK(net::host_is_loopback("127.0.0.1:5000"));
  CHECK(net::host_is_loopback("127.1.2.3"));
  CHECK(net::host_is_loopback("localhost:80"));
  CHECK(net::host_is_loopback("[::1]:5000"));
  CHECK_FALSE(net::host_is_loopback("127.example.com"));
  CHECK_FALSE(net::host_is_loopback("10.0.0.1:5000"));
  CHECK_FALSE(net::host_is_loopback("docker.io"));
}

TEST_CASE("oci_ref: platforms and matching", "[oci]") {
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

TEST_CASE("oci_ref: WWW-Authenticate challenges", "[oci]") {
  auto c = parse_challenges(
      {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull")"});
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "bearer");
  CHECK(c[0].params["realm"] == "https://auth.docker.io/token");
  CHECK(c[0].params["service"] == "registry.docker.io");
  CHECK(c[0].params["scope"] == "repository:library/ubuntu:pull");

  // Two challenges in one header, spaces, a quoted comma and an escaped quote, bare values.
  c = parse_challenges({R"(Basic realm="a, \"b\"" , BEARER Realm=https://x/token, service = svc)",
                        "Negotiate abc=="});
  REQUIRE(c.size() == 3);
  CHECK(c[0].scheme == "basic");
  CHECK(c[0].params["realm"] == "a, \"b\"");
  CHECK(c[1].scheme == "bearer");
  CHECK(c[1].params["realm"] == "https://x/token");
  CHECK(c[1].params["service"] == "svc");
  CHECK(c[2].scheme == "negotiate");
  CHECK(c[2].params.empty());
  CHECK(parse_challenges({""}).empty());
  CHECK(parse_challenges({"realm=x"}).empty());
}

TEST_CASE("oci_ref: credentials from the docker config file", "[oci]") {
  test::TempDir dir;
  const auto file = dir.path() / "auth.json";
  std::ofstream(file) << R"({"auths": {
    "https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
    "http://127.0.0.1:5000": {"auth": "YWxpY2U6czNjOnJldA=="},
    "ghcr.io": {"username": "bob", "password": "pw"},
    "helper.io": {}
  }, "credsStore": "desktop"})";
  ScopedEnv env("REGISTRY_AUTH_FILE", file.c_str());
  auto creds = [](std::string_view ref) {
    auto r = find_credentials(*parse_image_ref(ref));
    REQUIRE(r.has_value());
    return *r;
  };
  auto hub = creds("ubuntu");
  REQUIRE(hub.has_value());
  CHECK(hub->user == "hub");
  CHECK(hub->password == "hubpass");
  CHECK(hub->from == file.string());
  auto local = creds("127.0.0.1:5000/engine");
  REQUIRE(local.has_value());
  CHECK(local->user == "alice");
  CHECK(local->password == "s3c:ret");  // split at the first colon only
  CHECK(creds("ghcr.io/o/x")->user == "bob");
  CHECK_FALSE(creds("helper.io/x").has_value());
  CHECK_FALSE(creds("127.0.0.1:5001/engine").has_value());

  std::ofstream(file) << R"({"auths": {"bad.io": {"auth": "bm8tY29sb24="}}})";
  auto bad = find_credentials(*parse_image_ref("bad.io/x"));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message().find("not base64 of USER:PASSWORD") != std::string::npos);

  ScopedEnv missing("REGISTRY_AUTH_FILE", (dir.path() / "nope.json").c_str());
  CHECK_FALSE(find_credentials(*parse_image_ref("bad.io/x")).has_value());  // named explicitly: an error
  ScopedEnv unset("REGISTRY_AUTH_FILE", nullptr);
  ScopedEnv docker("DOCKER_CONFIG", dir.path().c_str());  // no config.json there: no credentials
  auto none = find_credentials(*parse_image_ref("bad.io/x"));
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
}

}  // namespace airlock::bundler::oci
