#pragma once
// A small HTTP/1.1 client on libcurl for the connected side (the bundler).
// The installer never links this library: it has no network code at all.
//
// Policy, the same for every source:
// - https always; plain http only to a loopback host (127.0.0.0/8, ::1,
//   localhost) or when the request says allow_insecure_http.
// - Redirects are followed by us, not by libcurl (up to 10 hops), so that the
//   Authorization header is sent to the origin (scheme, host, port) of the
//   first URL only and never forwarded to a CDN or another host.
// - Non-2xx answers are returned as responses, not errors; transport failures
//   (refused, reset, timed out, TLS) are kIOError naming the URL.
// - Idempotent requests with a collected body are retried with exponential
//   backoff on transport failures, 429 and 5xx (NetOptions::retries).
//
// The sources reach the network only through the HttpClient and
// HttpConnector interfaces below, handed down from the bundler's run()
// (bundler/app.cc makes the one CurlConnector); Http is libcurl behind them.
// One HttpClient per thread: a connector opens one for each thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/text.h"

namespace airlock::net {

struct NetOptions {
  int retries = 4;                    // extra attempts after the first
  int backoff_ms = 500;               // first wait; doubles each retry
  long connect_timeout_s = 30;
  long low_speed_timeout_s = 60;      // abort when under 1 byte/s for this long
  std::string user_agent = "airlock-bundler/0.1";
};

// Response headers, names lowercased, in arrival order.
class Headers {
 public:
  void add(std::string name, std::string value);
  std::optional<std::string> get(std::string_view name) const;  // first with that name
  std::vector<std::string> all(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return m_items; }
  void clear() { m_items.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> m_items;
};

struct Request {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers (any host)
  std::string authorization;   // "Bearer …" / "Basic …": sent to the first URL's origin only
  bool follow_redirects = true;
  std::uint64_t range_from = 0;  // > 0: "Range: bytes=N-"
  bool allow_insecure_http = false;
  std::string body;              // for POST/PUT/PATCH
  std::size_t max_body = 64u << 20;  // collected bodies larger than this are an error
  // With a sink: called once with the status and headers of a 2xx answer,
  // before its first body byte (to tell 206 from 200 when resuming).
  std::function<Status(long status, const Headers& headers)> on_body_start;
};

struct Response {
  long status = 0;
  std::string url;   // the final URL, after redirects
  Headers headers;   // of the final response
  std::string body;  // collected body (or, with a sink, the body of a non-2xx answer)
};

// Receives the body of a 2xx answer as it arrives; an error aborts the transfer.
using BodySink = std::function<Status(ByteSpan)>;

// One connection's worth of HTTP: the policy above, whatever is behind it.
// Not thread-safe: one per thread.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Collects the body (up to max_body); retried per NetOptions when idempotent.
  virtual Result<Response> send(const Request& request) = 0;
  // Streams a 2xx body to sink; never retried (the caller resumes with Range).
  virtual Result<Response> send(const Request& request, const BodySink& sink) = 0;
};

// Opens HttpClients. Thread-safe: the fetch workers each open their own.
class HttpConnector {
 public:
  virtual ~HttpConnector() = default;
  virtual std::unique_ptr<HttpClient> open(const NetOptions& options) const = 0;
};

// libcurl: one easy handle, kept alive across requests.
class Http final : public HttpClient {
 public:
  explicit Http(NetOptions options = {});
  ~Http() override;
  Http(const Http&) = delete;
  Http& operator=(const Http&) = delete;

  Result<Response> send(const Request& request) override;
  Result<Response> send(const Request& request, const BodySink& sink) override;

 private:
  Result<Response> send_once(const Request& request, const BodySink* sink);

  NetOptions m_options;
  void* m_curl;  // CURL*
};

// The real connector: an Http per open().
class CurlConnector final : public HttpConnector {
 public:
  std::unique_ptr<HttpClient> open(const NetOptions& options) const override {
    return std::make_unique<Http>(options);
  }
};

// URL helpers (libcurl's URL API underneath).
Result<std::string> url_resolve(const std::string& base, const std::string& relative);  // RFC 3986 reference resolution
std::string url_origin(const std::string& url);   // "https://host:443"; empty when unparseable
std::string url_host(const std::string& url);
bool url_is_loopback(const std::string& url);
// "127.0.0.1:5000", "localhost", "[::1]:5000": 127.0.0.0/8 as a dotted quad, localhost or ::1.
inline bool host_is_loopback(std::string_view host_port) { return text::host_is_loopback(host_port); }
std::string url_encode(std::string_view text);
// For messages: the URL without its query, fragment or user:password (a CDN's
// presigned query string is a credential).
std::string url_for_display(const std::string& url);    // percent-encodes everything but unreserved characters
// Checks the scheme policy above; the error names `what` and the URL.
Status check_url_allowed(const std::string& url, bool allow_insecure_http, std::string_view what);

// "Bad gateway (502)" style text for an HTTP status, for error messages.
std::string describe_status(long status);

}  // namespace airlock::net
