#pragma once
// A client for the parts of the Hugging Face Hub's HTTP API that
// huggingface_hub's snapshot_download uses, with its environment and its
// error mapping (hf_raise_for_status):
//   GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true   → the commit (`sha`)
//   GET {endpoint}/api/models/{repo}/tree/{commit}?recursive=true → the files, paged by
//       `Link: <…>; rel="next"`
//   HEAD/GET {endpoint}/{repo}/resolve/{commit}/{path}             → 302 to the CDN for LFS
//       files (X-Linked-Etag = SHA-256), 200 for git files (ETag = git blob SHA-1)
// Errors name the source ("hf://ORG/NAME") and say what to do; tokens never
// appear in them. A Hub object is used by one thread (it borrows an Http).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "net/http.h"

namespace airlock::bundler::hf {

struct Token {
  std::string value;
  std::string from;  // for messages: "$HF_TOKEN", "/root/.cache/huggingface/token"
};

// $HF_ENDPOINT, default https://huggingface.co, trailing '/' stripped.
std::string endpoint_from_env();
// $HF_TOKEN, then $HUGGING_FACE_HUB_TOKEN, then the token file ($HF_TOKEN_PATH, else
// $HF_HOME/token; HF_HOME defaults to $XDG_CACHE_HOME/huggingface, else
// ~/.cache/huggingface); whitespace trimmed, empty values skipped. No token is
// not an error; an unreadable token file or one with several lines is.
Result<std::optional<Token>> token_from_env();
// "hf://ORG/NAME" → "ORG/NAME", validated as huggingface_hub's validate_repo_id
// (ASCII letters, digits, '_', '-', '.'; no "--" or ".."; not ending in ".git").
Result<std::string> repo_from_source(std::string_view source);

bool is_lower_hex(std::string_view s, std::size_t len);
// {endpoint}/{repo}/resolve/{commit}/{path, percent-encoded per segment}
std::string resolve_url(std::string_view endpoint, std::string_view repo, std::string_view commit,
                        std::string_view path);
// The target of `rel="next"` in a Link header (RFC 8288), or empty.
std::string next_link(std::string_view header);
// An ETag without "W/" and quotes (huggingface_hub's _normalize_etag).
std::string normalize_etag(std::string_view etag);

struct HubFile {
  std::string path;    // in the repository, '/'-separated, a safe relative path
  std::uint64_t size = 0;
  bool lfs = false;
  std::string oid;     // git blob SHA-1 (for LFS files: of the pointer file)
  std::string sha256;  // LFS files: from the listing
};

class Hub {
 public:
  Hub(std::string repo, std::string endpoint, std::optional<Token> token, net::HttpClient& http);

  const std::string& source() const { return m_source; }  // "hf://ORG/NAME"
  std::string authorization() const { return m_token ? "Bearer " + m_token->value : std::string(); }

  // The commit a branch, tag or commit points to (40 lowercase hex).
  Result<std::string> pin(const std::string& revision) const;
  // Every file at the commit, following the pages; refuses unsafe paths and
  // a next page on another host (the token goes with every page).
  Result<std::vector<HubFile>> list(const std::string& commit) const;
  // HEAD of the file's resolve URL, not following the redirect: tells a gated
  // or private repository (whose listing anyone may read) from an open one,
  // and checks X-Repo-Commit and the etag against the listing.
  Status check_access(const HubFile& file, const std::string& commit) const;

 private:
  net::Request request(std::string url, std::string method = "GET") const;
  Result<net::Response> send(const net::Request& r, std::string_view doing) const;
  // The error for a non-2xx answer, after the Hub's X-Error-Code / X-Error-Message.
  Error error_for(const net::Response& resp, std::string_view doing, std::string_view file = {}) const;
  Result<nlohmann::json> get_json(const std::string& url, std::string_view doing, net::Response* out = nullptr) const;
  Status add_item(const nlohmann::json& item, std::string_view doing, std::vector<HubFile>& files,
                  std::set<std::string>& seen) const;

  std::string m_repo;
  std::string m_source;
  std::string m_endpoint;
  std::optional<Token> m_token;
  net::HttpClient& m_http;
};

}  // namespace airlock::bundler::hf
