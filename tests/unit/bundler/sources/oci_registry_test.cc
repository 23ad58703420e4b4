#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "bundler/sources/oci_registry.h"
#include "net/http.h"
#include "tests/support/temp_dir.h"

namespace airlock::bundler::oci {
namespace {

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

TEST_CASE("oci_registry: loopback registries", "[oci]") {
  CHECK(net::host_is_loopback("127.0.0.1:5000"));
  CHECK(net::host_is_loopback("127.1.2.3"));
  CHECK(net::host_is_loopback("localhost:80"));
  CHECK(net::host_is_loopback("[::1]:5000"));
  CHECK_FALSE(net::host_is_loopback("127.example.com"));
  CHECK_FALSE(net::host_is_loopback("10.0.0.1:5000"));
  CHECK_FALSE(net::host_is_loopback("docker.io"));
}

TEST_CASE("oci_registry: WWW-Authenticate challenges", "[oci]") {
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

TEST_CASE("oci_registry: credentials from the docker config file", "[oci]") {
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
