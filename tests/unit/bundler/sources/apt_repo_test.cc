#include "bundler/sources/apt_repo.h"

#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "core/crypto/sha256.h"
#include "tests/support/fake_process_runner.h"

namespace airlock::bundler::apt {
namespace {

// Serves fixed bodies by URL; 404 for anything else.
class MapClient final : public net::HttpClient {
 public:
  explicit MapClient(std::map<std::string, std::string> files) : m_files(std::move(files)) {}
  Result<net::Response> send(const net::Request& request) override {
    auto it = m_files.find(request.url);
    if (it == m_files.end()) {
      return net::Response{404, request.url, {}, {}};
    }
    return net::Response{200, request.url, {}, it->second};
  }
  Result<net::Response> send(const net::Request& request, const net::BodySink&) override {
    return net::Response{404, request.url, {}, {}};
  }

 private:
  std::map<std::string, std::string> m_files;
};

// A flat repository whose Release says Valid-Until 2026-01-01 00:00:00 UTC.
constexpr std::int64_t k_valid_until = 1767225600;

MapClient flat_repo() {
  const std::string packages;  // no package: the index is what is tested
  const std::string release = "Origin: test\nValid-Until: Thu, 01 Jan 2026 00:00:00 UTC\nSHA256:\n " +
                              crypto::sha256_hex(as_bytes(packages)) + " 0 Packages\n";
  return MapClient({{"http://127.0.0.1:9/repo/Release", release}, {"http://127.0.0.1:9/repo/Packages", packages}});
}

manifest::AptSpec flat_spec() {
  manifest::AptSpec spec;
  spec.repo = "http://127.0.0.1:9/repo/";
  spec.architecture = "amd64";
  return spec;
}

TEST_CASE("apt repo: Valid-Until is judged by the clock the caller passes, not the system's", "[apt]") {
  MapClient http = flat_repo();
  test::FakeProcessRunner runner;  // no signed-by: gpgv is never run
  const manifest::AptSpec spec = flat_spec();

  auto before = fetch_repo_index(spec, 0, http, runner, k_valid_until - 1, {});
  REQUIRE(before.has_value());
  CHECK(before->packages.empty());
  CHECK(runner.calls().empty());

  auto after = fetch_repo_index(spec, 0, http, runner, k_valid_until + 1, {});
  REQUIRE_FALSE(after.has_value());
  CHECK(after.error().code() == ErrorCode::kExpired);
  CHECK_THAT(after.error().message(), Catch::Contains("expired on Thu, 01 Jan 2026 00:00:00 UTC (Valid-Until)"));
}

}  // namespace
}  // namespace airlock::bundler::apt
