// The Hugging Face Hub client (see hf_hub.h). Facts from huggingface_hub:
// constants.py (HF_ENDPOINT, HF_HOME, token paths), utils/_validators.py
// (repo ids), utils/_http.py (hf_raise_for_status), file_download.py (etags).

#include "bundler/sources/hf_hub.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "core/base/env.h"
#include "core/base/text.h"
#include "core/manifest/manifest.h"

namespace airlock::bundler::hf {
namespace {

using nlohmann::json;

constexpr std::string_view k_scheme = "hf://";
constexpr std::size_t k_max_pages = 100000;      // a listing longer than this is a server loop
constexpr std::size_t k_max_files = 1000000;
constexpr std::size_t k_max_hub_message = 300;  // of X-Error-Message quoted in our errors


std::string trim(std::string_view s) { return std::string(text::trim(s)); }

bool has_control(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return true;
    }
  }
  return false;
}

// Text from the server, made safe to print: no control characters, bounded.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, k_max_hub_message)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (s.size() > k_max_hub_message) {
    out += "…";
  }
  return out;
}

// One part of ORG/NAME, after huggingface_hub's validate_repo_id (ASCII only):
// [A-Za-z0-9._-]{1,96}, starting and ending with a letter, digit or '_'.
bool valid_repo_part(std::string_view s) {
  if (s.empty() || s.size() > 96) {
    return false;
  }
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  for (char c : s) {
    if (!word(c) && c != '-' && c != '.') {
      return false;
    }
  }
  return word(s.front()) && word(s.back());
}

std::string encode_path(std::string_view path) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t end = path.find('/', start);
    out += net::url_encode(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    out += '/';
    start = end + 1;
  }
}

}  // namespace

bool is_lower_hex(std::string_view s, std::size_t len) { return len != 0 && text::is_lower_hex(s, len); }

std::string endpoint_from_env() {
  std::string e = trim(getenv_str("HF_ENDPOINT"));
  if (e.empty()) {
    e = "https://huggingface.co";
  }
  while (e.ends_with('/')) {
    e.pop_back();
  }
  return e;
}

// As huggingface_hub's get_token(): the environment first, then the token file.
Result<std::optional<Token>> token_from_env() {
  for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
    std::string v = trim(getenv_str(name));
    if (!v.empty()) {
      if (has_control(v)) {
        return make_error(ErrorCode::kInvalidArgument, "${} holds control characters; set it to the token alone", name);
      }
      return Token{v, fmt::format("${}", name)};
    }
  }
  std::filesystem::path file;
  if (std::string p = getenv_str("HF_TOKEN_PATH"); !p.empty()) {
    file = p;
  } else {
    std::filesystem::path home;
    if (std::string h = getenv_str("HF_HOME"); !h.empty()) {
      home = h;
    } else if (std::string x = getenv_str("XDG_CACHE_HOME"); !x.empty()) {
      home = std::filesystem::path(x) / "huggingface";
    } else if (std::string u = getenv_str("HOME"); !u.empty()) {
      home = std::filesystem::path(u) / ".cache" / "huggingface";
    } else {
      return std::optional<Token>();
    }
    file = home / "token";
  }
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return std::optional<Token>();
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) {
    return make_error(ErrorCode::kIOError, "cannot read the Hugging Face token file {}; fix its permissions or set HF_TOKEN",
                      file.string());
  }
  std::string v = trim(text.str());
  if (v.empty()) {
    return std::optional<Token>();
  }
  if (has_control(v)) {
    return make_error(ErrorCode::kInvalidArgument, "{} holds more than one line; it must hold the token alone", file.string());
  }
  return Token{v, file.string()};
}

Result<std::string> repo_from_source(std::string_view source) {
  if (!source.starts_with(k_scheme)) {
    return make_error(ErrorCode::kInvalidArgument, "[model] source '{}' is not an hf://ORG/NAME reference", source);
  }
  std::string_view id = source.substr(k_scheme.size());
  auto slash = id.find('/');
  bool ok = slash != std::string_view::npos && valid_repo_part(id.substr(0, slash)) &&
            valid_repo_part(id.substr(slash + 1)) && id.find("--") == std::string_view::npos &&
            id.find("..") == std::string_view::npos && !id.ends_with(".git");
  if (!ok) {
    return make_error(ErrorCode::kInvalidArgument,
                      "[model] source '{}': the repository id must be ORG/NAME with letters, digits, '_', '-' and '.' "
                      "(no '--' or '..'), as on the Hub page's URL",
                      source);
  }
  return std::string(id);
}

std::string resolve_url(std::string_view endpoint, std::string_view repo, std::string_view commit,
                        std::string_view path) {
  return fmt::format("{}/{}/resolve/{}/{}", endpoint, repo, commit, encode_path(path));
}

// An ETag value without W/ and quotes, as huggingface_hub's _normalize_etag.
std::string normalize_etag(std::string_view etag) {
  std::string_view e = etag;
  if (e.starts_with("W/")) {
    e.remove_prefix(2);
  }
  while (!e.empty() && e.front() == '"') {
    e.remove_prefix(1);
  }
  while (!e.empty() && e.back() == '"') {
    e.remove_suffix(1);
  }
  return std::string(e);
}

// The URL of `rel="next"` in a Link header (RFC 8288), or empty.
std::string next_link(std::string_view header) {
  auto lower = [](std::string_view v) {
    std::string out;
    for (char c : v) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  std::size_t pos = 0;
  while (true) {
    const std::size_t lt = header.find('<', pos);
    const std::size_t gt = lt == std::string_view::npos ? lt : header.find('>', lt);
    if (gt == std::string_view::npos) {
      return {};
    }
    const std::size_t end = header.find(',', gt);  // where the next link-value starts
    std::string_view params = header.substr(gt + 1, end == std::string_view::npos ? end : end - gt - 1);
    // ;param=value pairs; rel holds space-separated relation types, maybe quoted.
    for (std::size_t p = 0; p <= params.size();) {
      const std::size_t semi = params.find(';', p);
      const std::string_view param = params.substr(p, semi == std::string_view::npos ? semi : semi - p);
      p = semi == std::string_view::npos ? params.size() + 1 : semi + 1;
      const std::size_t eq = param.find('=');
      if (eq == std::string_view::npos || lower(trim(param.substr(0, eq))) != "rel") {
        continue;
      }
      std::string value = lower(trim(param.substr(eq + 1)));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      std::string_view types = value;
      while (!types.empty()) {
        const std::size_t sp = types.find(' ');
        if (types.substr(0, sp) == "next") {
          return std::string(header.substr(lt + 1, gt - lt - 1));
        }
        types = sp == std::string_view::npos ? std::string_view() : types.substr(sp + 1);
      }
    }
    if (end == std::string_view::npos) {
      return {};
    }
    pos = end + 1;
  }
}

Hub::Hub(std::string repo, std::string endpoint, std::optional<Token> token, net::HttpClient& http)
    : m_repo(std::move(repo)), m_source(fmt::format("hf://{}", m_repo)), m_endpoint(std::move(endpoint)),
      m_token(std::move(token)), m_http(http) {}

net::Request Hub::request(std::string url, std::string method) const {
  net::Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.authorization = authorization();
  r.headers.emplace_back("Accept-Encoding", "identity");
  return r;
}

Result<net::Response> Hub::send(const net::Request& r, std::string_view doing) const {
  auto resp = m_http.send(r);
  if (!resp) {
    return std::unexpected(Error(resp.error()).with_context(fmt::format("{}: {}", m_source, doing)));
  }
  return resp;
}

// The error for a non-2xx answer, after the Hub's X-Error-Code (huggingface_hub's
// hf_raise_for_status). `doing` says what was asked: "pinning revision 'main'".
Error Hub::error_for(const net::Response& resp, std::string_view doing, std::string_view file) const {
  const std::string code = resp.headers.get("x-error-code").value_or("");
  const std::string message = printable(resp.headers.get("x-error-message").value_or(""));
  const std::string hub_says = message.empty() ? std::string() : fmt::format(" (the Hub says: {})", message);
  const bool api = resp.url.find("/api/") != std::string::npos;
  const std::string page = fmt::format("{}/{}", m_endpoint, m_repo);
  if (code == "GatedRepo") {
    if (resp.status == 401 || !m_token) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("{}: gated repository: set HF_TOKEN to the token of an account that was granted "
                               "access on {}{}",
                               m_source, page, hub_says));
    }
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}: gated repository: your token (from {}) has no access; request access on the repo "
                             "page {}{}",
                             m_source, m_token->from, page, hub_says));
  }
  if (resp.status == 401 && message == "Invalid credentials in Authorization header" && m_token) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}: the Hub at {} rejected the token from {}; check it or create a new one{}", m_source,
                             m_endpoint, m_token->from, hub_says));
  }
  if (code == "RepoNotFound" || (resp.status == 401 && code.empty() && api)) {
    if (!m_token) {
      return Error(ErrorCode::kNotFound,
                   fmt::format("{}: repository not found or private on {} (the Hub does not say which); check "
                               "[model] source, and set HF_TOKEN if it is private{}",
                               m_source, m_endpoint, hub_says));
    }
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: repository not found on {}, or the token from {} cannot see it; check [model] "
                             "source{}",
                             m_source, m_endpoint, m_token->from, hub_says));
  }
  if (code == "RevisionNotFound") {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: {}: revision not found{}; set [model] revision to a branch, a tag or a 40-hex "
                             "commit of {}",
                             m_source, doing, hub_says, page));
  }
  if (code == "EntryNotFound" || (resp.status == 404 && !file.empty())) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: {}: file not found{}; re-run lock if the repository changed", m_source,
                             file.empty() ? doing : file, hub_says));
  }
  if (code == "DisabledRepo") {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: the repository is disabled on {}{}", m_source, m_endpoint, hub_says));
  }
  return Error(ErrorCode::kIOError, fmt::format("{}: {}: {} from {}{}{}", m_source, doing, net::describe_status(resp.status),
                                                resp.url, hub_says, resp.status >= 500 ? "; try again later" : ""));
}

Result<json> Hub::get_json(const std::string& url, std::string_view doing, net::Response* out) const {
  ASSIGN_OR_RETURN(net::Response resp, send(request(url), doing));
  if (resp.status != 200) {
    return std::unexpected(error_for(resp, doing));
  }
  json j = json::parse(resp.body, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorCode::kIOError, "{}: {}: {} did not answer JSON; is HF_ENDPOINT ({}) a Hub?", m_source,
                      doing, url, m_endpoint);
  }
  if (out != nullptr) {
    *out = std::move(resp);
  }
  return j;
}

Result<std::string> Hub::pin(const std::string& revision) const {
  if (revision.empty() || has_control(revision)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: [model] revision must be a branch, a tag or a commit",
                      m_source);
  }
  const std::string doing = fmt::format("pinning revision '{}'", printable(revision));
  ASSIGN_OR_RETURN(json info, get_json(fmt::format("{}/api/models/{}/revision/{}?blobs=true", m_endpoint, m_repo,
                                                   net::url_encode(revision)),
                                       doing));
  if (!info.is_object() || !info.contains("sha") || !info["sha"].is_string()) {
    return make_error(ErrorCode::kIOError, "{}: {}: the Hub's answer has no commit (`sha`)", m_source, doing);
  }
  std::string sha = info["sha"].get<std::string>();
  if (!is_lower_hex(sha, 40)) {
    return make_error(ErrorCode::kIOError, "{}: {}: the Hub's commit '{}' is not 40 lowercase hex digits", m_source,
                      doing, printable(sha));
  }
  if (is_lower_hex(revision, 40) && sha != revision) {
    return make_error(ErrorCode::kIOError, "{}: asked for commit {}, the Hub answered {}", m_source, revision, sha);
  }
  return sha;
}

Result<std::vector<HubFile>> Hub::list(const std::string& commit) const {
  const std::string doing = fmt::format("listing files at commit {}", commit);
  const std::string origin = net::url_origin(m_endpoint);
  std::string url = fmt::format("{}/api/models/{}/tree/{}?recursive=true", m_endpoint, m_repo, commit);
  std::vector<HubFile> files;
  std::set<std::string> seen_paths;
  std::set<std::string> seen_urls;
  for (std::size_t page = 0; !url.empty(); ++page) {
    if (page >= k_max_pages || !seen_urls.insert(url).second) {
      return make_error(ErrorCode::kIOError, "{}: {}: the Hub's pages do not end (page {} is {})", m_source, doing,
                        page + 1, url);
    }
    net::Response resp;
    ASSIGN_OR_RETURN(json items, get_json(url, doing, &resp));
    if (!items.is_array()) {
      return make_error(ErrorCode::kIOError, "{}: {}: expected a JSON list from {}", m_source, doing, url);
    }
    for (const json& item : items) {
      TRY(add_item(item, doing, files, seen_paths));
    }
    std::string next;
    for (const std::string& link : resp.headers.all("link")) {
      if (next = next_link(link); !next.empty()) {
        break;
      }
    }
    if (!next.empty()) {
      ASSIGN_OR_RETURN(next, net::url_resolve(resp.url.empty() ? url : resp.url, next));
      // The token goes with every page: never to another host.
      if (net::url_origin(next) != origin) {
        return make_error(ErrorCode::kIOError,
                          "{}: {}: the Hub's next page is on another host ({}); refusing to send it the token",
                          m_source, doing, printable(next));
      }
    }
    url = std::move(next);
  }
  return files;
}

// HEAD of one file's resolve URL, without following the redirect: checks access
// (gated repos list their files to anyone) and that the Hub agrees with the listing.
Status Hub::check_access(const HubFile& f, const std::string& commit) const {
  const std::string url = resolve_url(m_endpoint, m_repo, commit, f.path);
  const std::string doing = fmt::format("checking access to {}", f.path);
  net::Request r = request(url, "HEAD");
  r.follow_redirects = false;
  ASSIGN_OR_RETURN(net::Response resp, send(r, doing));
  if (resp.status >= 400) {
    return std::unexpected(error_for(resp, doing, f.path));
  }
  if (auto c = resp.headers.get("x-repo-commit"); c && *c != commit) {
    return make_error(ErrorCode::kIOError, "{}: {}: the Hub answered for commit {}, not {}; re-run lock", m_source,
                      f.path, printable(*c), commit);
  }
  auto etag = resp.headers.get("x-linked-etag");
  if (!etag) {
    etag = resp.headers.get("etag");
  }
  const std::string expected = f.lfs ? f.sha256 : f.oid;
  if (etag && normalize_etag(*etag) != expected) {
    return make_error(ErrorCode::kCorruption, "{}: {}: the Hub's listing says {} {}, its download answers {}",
                      m_source, f.path, f.lfs ? "SHA-256" : "git blob", expected, printable(normalize_etag(*etag)));
  }
  if (auto linked = resp.headers.get("x-linked-size"); linked && f.lfs && *linked != std::to_string(f.size)) {
    return make_error(ErrorCode::kCorruption, "{}: {}: the Hub's listing says {} bytes, its download answers {}",
                      m_source, f.path, f.size, printable(*linked));
  }
  return ok_status();
}

Status Hub::add_item(const json& item, std::string_view doing, std::vector<HubFile>& files,
                     std::set<std::string>& seen) const {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kIOError, "{}: {}: the Hub listed an entry {} ({})", m_source, doing, why,
                      printable(item.dump()));
  };
  if (!item.is_object() || !item.contains("type") || !item["type"].is_string()) {
    return bad("without a type");
  }
  if (item["type"] != "file") {
    return ok_status();  // "directory": its files come too (recursive)
  }
  if (!item.contains("path") || !item["path"].is_string() || !item.contains("size") ||
      !item["size"].is_number_unsigned() || !item.contains("oid") || !item["oid"].is_string()) {
    return bad("without path, size or oid");
  }
  HubFile f;
  f.path = item["path"].get<std::string>();
  f.size = item["size"].get<std::uint64_t>();
  f.oid = item["oid"].get<std::string>();
  if (!manifest::is_safe_relative_path(f.path) || has_control(f.path) || f.path.find('\\') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: the Hub listed the file '{}', which is not a safe relative path; refusing the repository",
                      m_source, printable(f.path));
  }
  if (!is_lower_hex(f.oid, 40)) {
    return bad("whose oid is not a git SHA-1");
  }
  if (item.contains("lfs") && item["lfs"].is_object()) {
    const json& lfs = item["lfs"];
    // The tree API calls it lfs.oid; the revision API's siblings call it lfs.sha256.
    const char* key = lfs.contains("oid") ? "oid" : "sha256";
    if (!lfs.contains(key) || !lfs[key].is_string() || !is_lower_hex(lfs[key].get<std::string>(), 64)) {
      return bad("whose lfs.oid is not a SHA-256");
    }
    if (lfs.contains("size") && (!lfs["size"].is_number_unsigned() || lfs["size"].get<std::uint64_t>() != f.size)) {
      return bad("whose lfs.size differs from its size");
    }
    f.lfs = true;
    f.sha256 = lfs[key].get<std::string>();
  }
  if (!seen.insert(f.path).second) {
    return bad("twice");
  }
  if (files.size() >= k_max_files) {
    return make_error(ErrorCode::kUnsupported, "{}: more than {} files", m_source, k_max_files);
  }
  files.push_back(std::move(f));
  return ok_status();
}


}  // namespace airlock::bundler::hf
