#include "net/http.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <thread>

#include <curl/curl.h>

#include "core/base/interrupt.h"
#include "core/base/text.h"

namespace airlock::net {

namespace {

using text::lower;

std::string trim(std::string_view s) { return std::string(text::trim(s)); }

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UrlParts {
  std::string scheme, host, port;
};

std::optional<UrlParts> parse_url(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) {
    return std::nullopt;
  }
  std::optional<UrlParts> out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      out = UrlParts{lower(scheme), lower(host), port};
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool retryable_status(long status) { return status == 429 || status == 408 || (status >= 500 && status <= 599); }

struct Transfer {
  Response* response = nullptr;
  const BodySink* sink = nullptr;
  const Request* request = nullptr;
  bool started = false;
  CURL* curl = nullptr;
  std::size_t max_body = 0;
  std::optional<Error> error;  // from the sink, or the body cap
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (after 100 Continue, or a proxy's)
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response->headers.add(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->sink != nullptr && status >= 200 && status < 300) {
    if (!t->started) {
      t->started = true;
      if (t->request->on_body_start) {
        Status st = t->request->on_body_start(status, t->response->headers);
        if (!st) {
          t->error = st.error();
          return CURL_WRITEFUNC_ERROR;
        }
      }
    }
    Status st = (*t->sink)(ByteSpan(reinterpret_cast<const std::uint8_t*>(data), n));
    if (!st) {
      t->error = st.error();
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
  if (t->response->body.size() + n > t->max_body) {
    t->error = Error(ErrorCode::kIOError, fmt::format("answer larger than {} bytes", t->max_body));
    return CURL_WRITEFUNC_ERROR;
  }
  t->response->body.append(data, n);
  return n;
}

int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) { return interrupt_requested() ? 1 : 0; }

bool idempotent(const std::string& method) { return method == "GET" || method == "HEAD"; }

}  // namespace

void Headers::add(std::string name, std::string value) { m_items.emplace_back(std::move(name), std::move(value)); }

std::optional<std::string> Headers::get(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [k, v] : m_items) {
    if (k == key) {
      return v;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Headers::all(std::string_view name) const {
  const std::string key = lower(name);
  std::vector<std::string> out;
  for (const auto& [k, v] : m_items) {
    if (k == key) {
      out.push_back(v);
    }
  }
  return out;
}

Http::Http(NetOptions options) : m_options(std::move(options)) {
  global_init();
  m_curl = curl_easy_init();
  if (m_curl == nullptr) {
    std::abort();  // out of memory
  }
}

Http::~Http() { curl_easy_cleanup(static_cast<CURL*>(m_curl)); }

Result<Response> Http::send_once(const Request& request, const BodySink* sink) {
  std::string url = request.url;
  std::string authorization = request.authorization;
  std::string method = request.method;
  std::string body = request.body;
  const std::string first_origin = url_origin(url);
  for (int hop = 0;; ++hop) {
    TRY(check_url_allowed(url, request.allow_insecure_http, "request"));
    TRY(check_interrupt());
    CURL* c = static_cast<CURL*>(m_curl);
    curl_easy_reset(c);
    Response response;
    Transfer t;
    t.response = &response;
    t.sink = sink;
    t.request = &request;
    t.curl = c;
    t.max_body = request.max_body;
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : request.headers) {
      headers = curl_slist_append(headers, fmt::format("{}: {}", k, v).c_str());
    }
    // The credential goes to the origin it was issued for, never elsewhere.
    if (!authorization.empty() && url_origin(url) == first_origin) {
      headers = curl_slist_append(headers, fmt::format("Authorization: {}", authorization).c_str());
    }
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, m_options.user_agent.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, m_options.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, m_options.low_speed_timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    if (method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
      if (method != "DELETE") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      }
    }
    std::string range;
    if (request.range_from > 0) {
      range = fmt::format("{}-", request.range_from);
      curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    if (t.error) {
      return std::unexpected(std::move(*t.error).with_context(fmt::format("{} {}", method, url_for_display(url))));
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK && interrupt_requested()) {
      return make_error(ErrorCode::kInterrupted, "interrupted");
    }
    if (rc != CURLE_OK) {
      return make_error(ErrorCode::kIOError, "{} {}: {}", method, url_for_display(url), curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    response.url = url;
    if (sink != nullptr && !t.started && response.status >= 200 && response.status < 300 &&
        request.on_body_start) {
      TRY(request.on_body_start(response.status, response.headers));  // an empty body
    }
    if (!request.follow_redirects || !is_redirect(response.status)) {
      return response;
    }
    auto location = response.headers.get("location");
    if (!location) {
      return make_error(ErrorCode::kIOError, "{} {}: redirect ({}) without a Location", method, url_for_display(url),
                        response.status);
    }
    if (hop >= 10) {
      return make_error(ErrorCode::kIOError, "{} {}: more than 10 redirects", method, url_for_display(request.url));
    }
    ASSIGN_OR_RETURN(url, url_resolve(url, *location));
    if (response.status == 303 && method != "HEAD") {
      method = "GET";
      body.clear();
    }
  }
}

Result<Response> Http::send(const Request& request) {
  int wait_ms = m_options.backoff_ms;
  for (int attempt = 0;; ++attempt) {
    auto r = send_once(request, nullptr);
    const bool can_retry = idempotent(request.method) && attempt < m_options.retries;
    if (r && (!can_retry || !retryable_status(r->status))) {
      return r;
    }
    if (!r && (!can_retry || r.error().code() != ErrorCode::kIOError)) {
      return r;
    }
    int delay = wait_ms;
    if (r) {
      if (auto after = r->headers.get("retry-after")) {
        char* end = nullptr;
        long secs = std::strtol(after->c_str(), &end, 10);
        if (end != after->c_str() && secs >= 0) {
          delay = static_cast<int>(std::min<long>(secs, 60) * 1000);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    TRY(check_interrupt());
    wait_ms = std::min(wait_ms * 2, 30000);
  }
}

Result<Response> Http::send(const Request& request, const BodySink& sink) { return send_once(request, &sink); }

Result<std::string> url_resolve(const std::string& base, const std::string& relative) {
  CURLU* u = curl_url();
  if (u == nullptr) {
    std::abort();
  }
  std::string out;
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, base.c_str(), 0);
  if (rc == CURLUE_OK) {
    rc = curl_url_set(u, CURLUPART_URL, relative.c_str(), 0);
  }
  char* full = nullptr;
  if (rc == CURLUE_OK) {
    rc = curl_url_get(u, CURLUPART_URL, &full, 0);
  }
  if (rc == CURLUE_OK) {
    out = full;
  }
  curl_free(full);
  curl_url_cleanup(u);
  if (rc != CURLUE_OK) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' relative to '{}' is not a valid URL: {}", relative, base,
                      curl_url_strerror(rc));
  }
  return out;
}

std::string url_origin(const std::string& url) {
  auto p = parse_url(url);
  return p ? fmt::format("{}://{}:{}", p->scheme, p->host, p->port) : std::string();
}

std::string url_host(const std::string& url) {
  auto p = parse_url(url);
  return p ? p->host : std::string();
}

bool url_is_loopback(const std::string& url) { return host_is_loopback(url_host(url)); }

std::string url_for_display(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  const std::size_t scheme = out.find("://");
  const std::size_t at = out.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  const std::size_t slash = out.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme != std::string::npos && at != std::string::npos && (slash == std::string::npos || at < slash)) {
    out.erase(scheme + 3, at - scheme - 2);
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(hex[ch >> 4]);
      out.push_back(hex[ch & 15]);
    }
  }
  return out;
}

Status check_url_allowed(const std::string& url, bool allow_insecure_http, std::string_view what) {
  auto p = parse_url(url);
  if (!p) {
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a valid URL", what, url);
  }
  if (p->scheme == "https") {
    return ok_status();
  }
  if (p->scheme == "http") {
    if (allow_insecure_http || url_is_loopback(url)) {
      return ok_status();
    }
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: refusing plain http to {} (only loopback hosts may use http; use https, or set "
                      "insecure = true for this source if you accept that)",
                      what, url);
  }
  return make_error(ErrorCode::kInvalidArgument, "{}: '{}': only http and https URLs are supported", what, url);
}

std::string describe_status(long status) {
  const char* text = "";
  switch (status) {
    case 400: text = "Bad Request"; break;
    case 401: text = "Unauthorized"; break;
    case 403: text = "Forbidden"; break;
    case 404: text = "Not Found"; break;
    case 408: text = "Request Timeout"; break;
    case 416: text = "Range Not Satisfiable"; break;
    case 429: text = "Too Many Requests"; break;
    case 500: text = "Internal Server Error"; break;
    case 502: text = "Bad Gateway"; break;
    case 503: text = "Service Unavailable"; break;
    case 504: text = "Gateway Timeout"; break;
    default: return fmt::format("HTTP {}", status);
  }
  return fmt::format("HTTP {} {}", status, text);
}

}  // namespace airlock::net
