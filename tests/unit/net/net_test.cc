#include <catch2/catch.hpp>

#include "core/crypto/sha256.h"
#include "net/cache.h"
#include "net/http.h"
#include "tests/support/temp_dir.h"

namespace airlock::net {
namespace {

TEST_CASE("net: plain http only to loopback unless allowed", "[net]") {
  CHECK(check_url_allowed("https://huggingface.co/x", false, "t").has_value());
  CHECK(check_url_allowed("http://127.0.0.1:5000/v2/", false, "t").has_value());
  CHECK(check_url_allowed("http://localhost:8080/", false, "t").has_value());
  CHECK(check_url_allowed("http://[::1]:8080/", false, "t").has_value());
  auto r = check_url_allowed("http://registry.example.org/v2/", false, "image x");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("image x") != std::string::npos);
  CHECK(r.error().message().find("insecure = true") != std::string::npos);
  CHECK(check_url_allowed("http://registry.example.org/v2/", true, "t").has_value());
  CHECK_FALSE(check_url_allowed("http://127.evil.example/", false, "t").has_value());
  CHECK_FALSE(check_url_allowed("ftp://127.0.0.1/", true, "t").has_value());
  CHECK_FALSE(check_url_allowed("file:///etc/passwd", true, "t").has_value());
}

TEST_CASE("net: URL helpers", "[net]") {
  CHECK(url_origin("https://huggingface.co/org/x") == "https://huggingface.co:443");
  CHECK(url_origin("http://127.0.0.1:8000/a") != url_origin("http://127.0.0.1:8001/a"));
  CHECK(url_resolve("http://h/simple/pkg/", "../../files/a.whl#sha256=ab").value() == "http://h/files/a.whl#sha256=ab");
  CHECK(url_resolve("http://h/simple/pkg/", "https://cdn/x").value() == "https://cdn/x");
  CHECK(url_encode("main") == "main");
  CHECK(url_encode("refs/pr/1") == "refs%2Fpr%2F1");
}

TEST_CASE("cache: put and find by SHA-256 and size", "[net]") {
  test::TempDir dir("cache");
  auto cache = Cache::open(dir.path());
  REQUIRE(cache.has_value());
  std::string text = "layer bytes";
  ByteSpan bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  auto sha = cache->put(bytes);
  REQUIRE(sha.has_value());
  CHECK(*sha == crypto::sha256_hex(bytes));
  CHECK(cache->find(*sha, text.size()).has_value());
  CHECK_FALSE(cache->find(*sha, text.size() + 1).has_value());
  CHECK_FALSE(cache->find("../../etc/passwd", 0).has_value());
  CHECK(cache->path_for(*sha).parent_path().filename() == sha->substr(0, 2));
}

TEST_CASE("cache: an item with no hash to check is refused before any download", "[net]") {
  test::TempDir dir("cache");
  auto cache = Cache::open(dir.path());
  REQUIRE(cache.has_value());
  Http http;
  FetchItem item;
  item.what = "test: x";
  item.url = "http://127.0.0.1:9/x";
  auto r = fetch_one(*cache, http, item, NetOptions{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("test: x") != std::string::npos);
}

TEST_CASE("http: a refused connection is an I/O error naming the URL", "[net]") {
  NetOptions o;
  o.retries = 1;
  o.backoff_ms = 1;
  Http http(o);
  Request req;
  req.url = "http://127.0.0.1:9/nothing-listens-here";
  auto r = http.send(req);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kIOError);
  CHECK(r.error().message().find("127.0.0.1:9") != std::string::npos);
}

}  // namespace
}  // namespace airlock::net

namespace airlock::net {
namespace {
TEST_CASE("net: URLs in messages lose credentials and presigned queries", "[net]") {
  CHECK(url_for_display("https://cdn.example/a/b?X-Amz-Signature=secret#f") == "https://cdn.example/a/b");
  CHECK(url_for_display("https://user:pw@registry.example/v2/") == "https://registry.example/v2/");
  CHECK(url_for_display("http://127.0.0.1:5000/v2/x@y") == "http://127.0.0.1:5000/v2/x@y");
}
}  // namespace
}  // namespace airlock::net

namespace airlock::net {
namespace {

// The HttpClient seam: a connector that serves bytes from memory.
class FakeClient final : public HttpClient {
 public:
  FakeClient(std::string body, int* opened) : m_body(std::move(body)) { ++*opened; }
  Result<Response> send(const Request& request) override {
    return Response{200, request.url, {}, m_body};
  }
  Result<Response> send(const Request& request, const BodySink& sink) override {
    if (request.on_body_start) {
      TRY(request.on_body_start(200, Headers()));
    }
    TRY(sink(as_bytes(m_body)));
    return Response{200, request.url, {}, {}};
  }

 private:
  std::string m_body;
};

class FakeConnector final : public HttpConnector {
 public:
  explicit FakeConnector(std::string body) : m_body(std::move(body)) {}
  std::unique_ptr<HttpClient> open(const NetOptions&) const override {
    return std::make_unique<FakeClient>(m_body, &m_opened);
  }
  mutable int m_opened = 0;

 private:
  std::string m_body;
};

TEST_CASE("fetch_all downloads through the connector it is given and verifies the bytes", "[net]") {
  test::TempDir dir("cache");
  auto cache = Cache::open(dir.path());
  REQUIRE(cache.has_value());
  const std::string text = "weights";
  FetchItem item;
  item.what = "test: w";
  item.url = "https://example.invalid/w";
  item.sha256 = crypto::sha256_hex(as_bytes(text));
  item.size = text.size();
  FetchOptions options;
  options.parallel = 1;
  SECTION("the right bytes land in the cache") {
    FakeConnector fake(text);
    options.http = &fake;
    auto r = fetch_all(*cache, {item}, options);
    REQUIRE(r.has_value());
    CHECK(fake.m_opened == 1);
    CHECK(cache->find(item.sha256, item.size).has_value());
  }
  SECTION("other bytes are refused and not cached") {
    FakeConnector fake("WEIGHTS");
    options.http = &fake;
    auto r = fetch_all(*cache, {item}, options);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find("test: w") != std::string::npos);
    CHECK_FALSE(cache->find(item.sha256, item.size).has_value());
  }
  SECTION("no connector: refused before anything is opened") {
    auto r = fetch_all(*cache, {item}, options);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find("no HTTP connector") != std::string::npos);
  }
}

}  // namespace
}  // namespace airlock::net
