#include "bundler/sources/oci_registry.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/base/bytes.h"
#include "core/base/env.h"
#include "core/base/text.h"

namespace airlock::bundler::oci {

namespace {

using nlohmann::json;

constexpr std::size_t k_max_token_answer = 1u << 20;

using text::lower;

// The docker config file to read, or empty when none applies.
std::string auth_file_path() {
  if (std::string f = getenv_str("REGISTRY_AUTH_FILE"); !f.empty()) {
    return f;
  }
  if (std::string d = getenv_str("DOCKER_CONFIG"); !d.empty()) {
    return d + "/config.json";
  }
  if (std::string home = getenv_str("HOME"); !home.empty()) {
    return home + "/.docker/config.json";
  }
  return {};
}

// "https://index.docker.io/v1/" → "index.docker.io": config keys may be URLs.
std::string auth_key_host(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.starts_with(scheme)) {
      key.remove_prefix(scheme.size());
    }
  }
  return lower(key.substr(0, key.find('/')));
}

bool key_names_registry(const ImageRef& ref, std::string_view key) {
  const std::string host = auth_key_host(key);
  if (ref.registry == "docker.io") {
    return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
  }
  return host == lower(ref.registry) || host == lower(ref.api_host());
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (text.size() > max) {
    out += "…";
  }
  return out;
}

std::string manifest_accept() {
  return fmt::format("{}, {}, {}, {}", k_oci_index, k_oci_manifest, k_docker_list, k_docker_manifest);
}

std::vector<Challenge> parse_challenges(const std::vector<std::string>& headers) {
  std::vector<Challenge> out;
  for (const std::string& h : headers) {
    std::size_t i = 0;
    auto skip = [&](std::string_view chars) {
      while (i < h.size() && chars.find(h[i]) != std::string_view::npos) {
        ++i;
      }
    };
    bool in_header_challenge = false;  // params before any scheme in this header are dropped
    while (i < h.size()) {
      skip(" \t,");
      std::size_t start = i;
      while (i < h.size() && is_token_char(h[i])) {
        ++i;
      }
      std::string name = h.substr(start, i - start);
      if (name.empty()) {
        if (i < h.size()) {
          ++i;  // a stray character
        }
        continue;
      }
      skip(" \t");
      if (i >= h.size() || h[i] != '=') {
        out.push_back(Challenge{lower(name), {}});  // a new auth-scheme
        in_header_challenge = true;
        continue;
      }
      ++i;
      if (i < h.size() && h[i] == '=') {
        skip("=");  // token68 padding ("Negotiate abc=="): not ours
        continue;
      }
      skip(" \t");
      std::string value;
      if (i < h.size() && h[i] == '"') {
        ++i;
        while (i < h.size() && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < h.size()) {
            ++i;
          }
          value += h[i++];
        }
        ++i;  // the closing quote
      } else {
        while (i < h.size() && h[i] != ',' && h[i] != ' ' && h[i] != '\t') {
          value += h[i++];
        }
      }
      if (in_header_challenge) {
        out.back().params[lower(name)] = value;
      }
    }
  }
  return out;
}

Result<std::optional<Credentials>> find_credentials(const ImageRef& ref) {
  const std::string path = auth_file_path();
  if (path.empty()) {
    return std::optional<Credentials>();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (getenv_str("REGISTRY_AUTH_FILE").empty()) {
      return std::optional<Credentials>();  // no docker config: no credentials
    }
    return make_error(ErrorCode::kInvalidArgument, "REGISTRY_AUTH_FILE={}: cannot read it", path);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  json j = json::parse(buf.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a JSON object; fix or remove the registry credentials file",
                      path);
  }
  auto auths = j.find("auths");
  if (auths == j.end() || !auths->is_object()) {
    return std::optional<Credentials>();
  }
  for (const auto& [key, entry] : auths->items()) {
    if (!key_names_registry(ref, key) || !entry.is_object()) {
      continue;
    }
    Credentials c;
    c.from = path;
    if (auto a = entry.find("auth"); a != entry.end() && a->is_string() && !a->get<std::string>().empty()) {
      auto decoded = from_base64(a->get<std::string>());
      std::string text = decoded ? std::string(as_chars(*decoded)) : std::string();
      std::size_t colon = text.find(':');
      if (!decoded || colon == std::string::npos) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: auths.\"{}\".auth is not base64 of USER:PASSWORD; log in again (docker login / skopeo "
                          "login)",
                          path, key);
      }
      c.user = text.substr(0, colon);
      c.password = text.substr(colon + 1);
    } else if (entry.contains("username") && entry.contains("password") && entry["username"].is_string() &&
               entry["password"].is_string()) {
      c.user = entry["username"].get<std::string>();
      c.password = entry["password"].get<std::string>();
    } else {
      continue;  // an entry kept by a credential helper: not ours to read
    }
    return std::optional<Credentials>(std::move(c));
  }
  return std::optional<Credentials>();
}

Registry::Registry(net::HttpClient& http, ImageRef ref, bool insecure)
    : m_http(http), m_ref(std::move(ref)), m_insecure(insecure) {}

std::string Registry::endpoint() const {
  const std::string host = m_ref.api_host();
  return fmt::format("{}://{}", (m_insecure || net::host_is_loopback(host)) ? "http" : "https", host);
}

std::string Registry::manifest_url(std::string_view reference) const {
  return fmt::format("{}/v2/{}/manifests/{}", endpoint(), m_ref.repository, reference);
}

std::string Registry::blob_url(std::string_view digest) const {
  return fmt::format("{}/v2/{}/blobs/{}", endpoint(), m_ref.repository, digest);
}

Status Registry::check_allowed() const {
  return net::check_url_allowed(endpoint() + "/v2/", m_insecure, m_ref.full());
}

Result<net::Response> Registry::get(const std::string& url, bool accept_manifests, std::size_t max_body) {
  for (int attempt = 0;; ++attempt) {
    net::Request req;
    req.url = url;
    req.max_body = max_body;
    req.allow_insecure_http = m_insecure;
    req.authorization = m_authorization;
    if (accept_manifests) {
      req.headers.emplace_back("Accept", manifest_accept());
    }
    ASSIGN_OR_RETURN(net::Response resp, m_http.send(req));
    if (resp.status == 401 && attempt > 0 && m_authorization.starts_with("Basic ") && m_credentials) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: {} refused the credentials of '{}' from {} ({}); log in to {} again", m_ref.full(), m_ref.registry, printable(m_credentials->user), m_credentials->from,
                        net::describe_status(resp.status), m_ref.registry);
    }
    if (resp.status != 401 || attempt > 0) {
      return resp;
    }
    ASSIGN_OR_RETURN(std::string auth, answer_challenge(resp));
    if (auth.empty() || auth == m_authorization) {
      return resp;  // nothing more to try: the caller reports the 401
    }
    m_authorization = std::move(auth);
  }
}

Result<std::string> Registry::authorize(const std::string& probe_url) {
  net::Request req;
  req.url = probe_url;
  req.max_body = 4u << 20;
  req.allow_insecure_http = m_insecure;
  req.headers.emplace_back("Accept", manifest_accept());
  ASSIGN_OR_RETURN(net::Response resp, m_http.send(req));
  if (resp.status != 401) {
    m_authorization.clear();
    return std::string();
  }
  ASSIGN_OR_RETURN(std::string auth, answer_challenge(resp));
  if (auth.empty()) {
    return std::unexpected(registry_error(m_ref, resp, "authorize"));
  }
  m_authorization = auth;
  return auth;
}

Result<std::optional<Credentials>> Registry::credentials() {
  if (!m_credentials_loaded) {
    ASSIGN_OR_RETURN(m_credentials, find_credentials(m_ref));
    m_credentials_loaded = true;
  }
  return m_credentials;
}

Result<std::string> Registry::answer_challenge(const net::Response& unauthorized) {
  std::vector<Challenge> challenges = parse_challenges(unauthorized.headers.all("www-authenticate"));
  for (const Challenge& c : challenges) {
    if (c.scheme == "bearer" && c.params.contains("realm")) {
      return fetch_token(c);
    }
  }
  for (const Challenge& c : challenges) {
    if (c.scheme == "basic") {
      ASSIGN_OR_RETURN(std::optional<Credentials> creds, credentials());
      if (!creds) {
        return std::string();
      }
      return "Basic " + to_base64(as_bytes(creds->user + ":" + creds->password));
    }
  }
  return std::string();
}

Result<std::string> Registry::fetch_token(const Challenge& bearer) {
  const std::string& realm = bearer.params.at("realm");
  const std::string what = fmt::format("{}: token service", m_ref.full());
  TRY(net::check_url_allowed(realm, m_insecure, what));
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  if (auto s = bearer.params.find("service"); s != bearer.params.end()) {
    url += "service=" + net::url_encode(s->second) + "&";
  }
  url += "scope=" + net::url_encode(fmt::format("repository:{}:pull", m_ref.repository));
  ASSIGN_OR_RETURN(std::optional<Credentials> creds, credentials());
  net::Request req;
  req.url = url;
  req.max_body = k_max_token_answer;
  req.allow_insecure_http = m_insecure;
  if (creds) {
    req.authorization = "Basic " + to_base64(as_bytes(creds->user + ":" + creds->password));
  }
  ASSIGN_OR_RETURN(net::Response resp, m_http.send(req));
  if (resp.status == 401 || resp.status == 403) {
    if (creds) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: {} refused the credentials of '{}' from {} ({}); log in to {} again", m_ref.full(), realm,
                        printable(creds->user), creds->from, net::describe_status(resp.status), m_ref.registry);
    }
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: {} gives no anonymous token ({}); the image may be private: log in to {} (docker login / "
                      "skopeo login, or REGISTRY_AUTH_FILE)",
                      m_ref.full(), realm, net::describe_status(resp.status), m_ref.registry);
  }
  if (resp.status < 200 || resp.status >= 300) {
    return make_error(ErrorCode::kIOError, "{}: {} answered {} to the token request", m_ref.full(), realm,
                      net::describe_status(resp.status));
  }
  json j = json::parse(resp.body, nullptr, false);
  std::string token;
  if (j.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      if (auto it = j.find(key); it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
        token = it->get<std::string>();
        break;
      }
    }
  }
  if (token.empty()) {
    return make_error(ErrorCode::kIOError, "{}: {} answered no token (want JSON with \"token\" or \"access_token\")",
                      m_ref.full(), realm);
  }
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return make_error(ErrorCode::kIOError, "{}: {} answered a token with spaces or control characters",
                        m_ref.full(), realm);
    }
  }
  return "Bearer " + token;
}

Error registry_error(const ImageRef& ref, const net::Response& response, std::string_view doing) {
  std::vector<std::string> codes;
  std::string said;
  json j = json::parse(response.body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array()) {
    for (const json& e : j["errors"]) {
      if (!e.is_object()) {
        continue;
      }
      std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
      std::string message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
      codes.push_back(code);
      said += fmt::format("{}{}{}{}", said.empty() ? "" : "; ", printable(code, 64), message.empty() ? "" : ": ",
                          printable(message));
    }
  }
  auto has = [&](std::string_view c) { return std::find(codes.begin(), codes.end(), c) != codes.end(); };
  const std::string registry_says =
      said.empty() ? net::describe_status(response.status)
                   : fmt::format("{}, the registry says {}", net::describe_status(response.status), said);
  const std::string where = fmt::format("{}/{}", ref.registry, ref.repository);
  if (has("NAME_UNKNOWN")) {
    return Error(ErrorCode::kNotFound, fmt::format("{}: {}: repository '{}' not found on {} ({}); check the name in "
                                                   "[[image]] ref",
                                                   ref.full(), doing, ref.repository, ref.registry, registry_says));
  }
  if (has("MANIFEST_UNKNOWN") || (response.status == 404 && doing.starts_with("manifest"))) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: {}: no such {} in {} ({}); check the {} in [[image]] ref", ref.full(), doing,
                             ref.digest.empty() ? "tag" : "digest", where, registry_says,
                             ref.digest.empty() ? "tag" : "digest"));
  }
  if (has("BLOB_UNKNOWN") || response.status == 404) {
    return Error(ErrorCode::kNotFound, fmt::format("{}: {}: not found in {} ({}); the image is incomplete in the "
                                                   "registry, push it again",
                                                   ref.full(), doing, where, registry_says));
  }
  if (response.status == 401 || response.status == 403 || has("UNAUTHORIZED") || has("DENIED")) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}: {}: access denied by {} ({}); if the image is private, log in to {} (docker login / "
                             "skopeo login, or REGISTRY_AUTH_FILE)",
                             ref.full(), doing, ref.registry, registry_says, ref.registry));
  }
  if (response.status == 429 || has("TOOMANYREQUESTS")) {
    return Error(ErrorCode::kIOError, fmt::format("{}: {}: rate limited by {} ({}); wait and run again, or log in for "
                                                  "a higher limit",
                                                  ref.full(), doing, ref.registry, registry_says));
  }
  return Error(ErrorCode::kIOError,
               fmt::format("{}: {}: {} answered {}", ref.full(), doing, response.url, registry_says));
}

}  // namespace airlock::bundler::oci
