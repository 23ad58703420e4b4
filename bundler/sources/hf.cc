// [model] source = "hf://ORG/NAME": the Hugging Face Hub, as huggingface_hub's
// snapshot_download talks to it (REFERENCES "Hugging Face Hub"; the client is
// in hf_hub.h):
//   1. pin the revision to a commit (the lock records both);
//   2. list the tree at that commit, filter it with include/exclude;
//   3. every file ships from {endpoint}/{repo}/resolve/{commit}/{path}: LFS files
//      answer 302 to a CDN (the token stays with the Hub's origin), git files 200.
// LFS files carry their SHA-256 in the listing; git files only their blob SHA-1,
// so those (configs, tokenizers: small) are downloaded while resolving to learn
// it, verified against the SHA-1, and stay in the cache for create.

#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "bundler/plan.h"
#include "bundler/sources/hf_hub.h"
#include "bundler/sources/sources.h"
#include "cli/printer.h"

namespace airlock::bundler {
namespace {

using nlohmann::json;

// huggingface_hub's filter_repo_objects: a pattern ending in '/' means everything under it.
std::vector<std::string> hub_globs(const std::vector<std::string>& globs) {
  std::vector<std::string> out;
  for (const std::string& g : globs) {
    out.push_back(g.ends_with('/') ? g + "*" : g);
  }
  return out;
}

std::string globs_text(const std::vector<std::string>& globs) {
  std::string out = "[";
  for (const std::string& g : globs) {
    out += fmt::format("{}\"{}\"", out.size() > 1 ? ", " : "", g);
  }
  return out + "]";
}


Result<LockedSource> resolve_hf_model(const manifest::ModelSpec& spec, const ResolveContext& ctx) {
  ASSIGN_OR_RETURN(std::string repo, hf::repo_from_source(spec.source));
  const std::string source = fmt::format("hf://{}", repo);
  const std::string revision = spec.revision.value_or("main");
  const std::string endpoint = hf::endpoint_from_env();
  if (!net::check_url_allowed(endpoint, false, source)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: HF_ENDPOINT {} must be an https URL (plain http only to a loopback host)", source, endpoint);
  }
  if (ctx.cache == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "{}: resolving needs the fetch cache", source);
  }
  auto token = hf::token_from_env();
  if (!token) {
    return std::unexpected(Error(token.error()).with_context(source));
  }
  const std::unique_ptr<net::HttpClient> client = ctx.http->open(ctx.net);
  net::HttpClient& http = *client;
  const hf::Hub hub(repo, endpoint, *token, http);

  ASSIGN_OR_RETURN(std::string commit, hub.pin(revision));
  ASSIGN_OR_RETURN(std::vector<hf::HubFile> all, hub.list(commit));
  std::vector<hf::HubFile> files;
  const std::vector<std::string> include = hub_globs(spec.include);
  const std::vector<std::string> exclude = hub_globs(spec.exclude);
  for (hf::HubFile& f : all) {
    if (glob_selected(include, exclude, f.path)) {
      files.push_back(std::move(f));
    }
  }
  if (files.empty()) {
    if (all.empty()) {
      return make_error(ErrorCode::kNotFound, "{}: the repository has no files at commit {} (revision '{}')", source,
                        commit, revision);
    }
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: none of the {} files at commit {} matches [model] include = {}, exclude = {}; fix the globs",
                      source, all.size(), commit, globs_text(spec.include), globs_text(spec.exclude));
  }

  // One HEAD tells a gated or private repository from an open one before any download.
  const hf::HubFile& probe = [&]() -> const hf::HubFile& {
    for (const hf::HubFile& f : files) {
      if (f.lfs) {
        return f;
      }
    }
    return files.front();
  }();
  TRY(hub.check_access(probe, commit));

  // Git files: the Hub gives only their blob SHA-1; download them (verified
  // against it) to learn the SHA-256. They are small, and then cached.
  std::vector<net::FetchItem> git_items;
  std::vector<std::size_t> git_index;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!files[i].lfs) {
      net::FetchItem item;
      item.what = fmt::format("{}: {}", source, files[i].path);
      item.url = hf::resolve_url(endpoint, repo, commit, files[i].path);
      item.git_sha1 = files[i].oid;
      item.size = files[i].size;
      item.authorization = hub.authorization();
      item.headers.emplace_back("Accept-Encoding", "identity");
      git_items.push_back(std::move(item));
      git_index.push_back(i);
    }
  }
  if (!git_items.empty()) {
    net::FetchOptions fo;
    fo.http = ctx.http;
    fo.net = ctx.net;
    ASSIGN_OR_RETURN(std::vector<net::FetchResult> fetched, net::fetch_all(*ctx.cache, git_items, fo));
    if (fetched.size() != git_items.size()) {
      return make_error(ErrorCode::kIOError, "{}: fetched {} of {} files", source, fetched.size(), git_items.size());
    }
    for (std::size_t k = 0; k < fetched.size(); ++k) {
      hf::HubFile& f = files[git_index[k]];
      if (fetched[k].size != f.size || !hf::is_lower_hex(fetched[k].sha256, 64)) {
        return make_error(ErrorCode::kCorruption, "{}: {}: downloaded {} bytes, the listing says {}", source, f.path,
                          fetched[k].size, f.size);
      }
      f.sha256 = fetched[k].sha256;
    }
  }

  LockedSource out;
  out.kind = "model";
  out.identity = json{{"source", source}, {"repo", repo}, {"revision", revision}, {"commit", commit},
                      {"endpoint", endpoint}};
  std::uint64_t total = 0;
  for (const hf::HubFile& f : files) {
    LockedFile lf;
    lf.path = "model/" + f.path;
    lf.origin = hf::resolve_url(endpoint, repo, commit, f.path);
    lf.size = f.size;
    lf.sha256 = f.sha256;
    lf.mode = 0644;
    lf.extra = json{{"lfs", f.lfs}, {"blob", f.lfs ? f.sha256 : f.oid}};
    if (!f.lfs) {
      lf.extra["git_sha1"] = f.oid;
    }
    total += f.size;
    out.files.push_back(std::move(lf));
  }
  if (ctx.note) {
    ctx.note(fmt::format("{}: pinned {} to {} ({} file{}, {})", source, revision, commit, out.files.size(),
                         out.files.size() == 1 ? "" : "s", cli::human_bytes(total)));
  }
  return out;
}

Result<std::vector<net::FetchItem>> hf_fetch_items(const LockedSource& source, const ResolveContext& ctx) {
  (void)ctx;
  const json& id = source.identity;
  auto field = [&](const char* key) {
    return id.contains(key) && id[key].is_string() ? id[key].get<std::string>() : std::string();
  };
  const std::string src = field("source");
  ASSIGN_OR_RETURN(std::string repo, hf::repo_from_source(src));
  const std::string commit = field("commit");
  const std::string endpoint = field("endpoint");
  if (field("repo") != repo || !hf::is_lower_hex(commit, 40) || endpoint.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "lock: {}: the identity needs repo, a 40-hex commit and the endpoint; run lock again", src);
  }
  // The token is for the endpoint this machine is configured for: a lock made
  // elsewhere (another HF_ENDPOINT) does not get it.
  std::string authorization;
  const std::string current = hf::endpoint_from_env();
  const bool same_endpoint = net::url_origin(endpoint) == net::url_origin(current);
  if (same_endpoint) {
    auto token = hf::token_from_env();
    if (!token) {
      return std::unexpected(Error(token.error()).with_context(src));
    }
    if (*token) {
      authorization = "Bearer " + (*token)->value;
    }
  }
  const std::string prefix = fmt::format("{}/{}/resolve/{}/", endpoint, repo, commit);
  std::vector<net::FetchItem> items;
  for (const LockedFile& f : source.files) {
    const std::string rel = f.path.starts_with("model/") ? f.path.substr(6) : std::string();
    if (rel.empty() || !manifest::is_safe_relative_path(rel)) {
      return make_error(ErrorCode::kInvalidArgument, "lock: {}: '{}' is not a path under model/", src, f.path);
    }
    if (!f.is_remote() || !f.origin.starts_with(prefix) || net::url_origin(f.origin) != net::url_origin(endpoint)) {
      return make_error(ErrorCode::kInvalidArgument, "lock: {}: {}: origin {} is not under {}; run lock again", src, rel,
                        f.origin, prefix);
    }
    if (!hf::is_lower_hex(f.sha256, 64)) {
      return make_error(ErrorCode::kInvalidArgument, "lock: {}: {}: the SHA-256 is not 64 lowercase hex digits", src, rel);
    }
    net::FetchItem item;
    item.what = fmt::format("{}: {}", src, rel);
    item.url = f.origin;
    item.sha256 = f.sha256;
    item.size = f.size;
    item.authorization = authorization;
    item.headers.emplace_back("Accept-Encoding", "identity");
    // A 401 from the Hub is not a stale token to renew: say what to do.
    item.reauthorize = [src, rel, endpoint, current, same_endpoint,
                        has_token = !authorization.empty()]() -> Result<std::string> {
      if (!same_endpoint) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: {}: the Hub at {} wants a token, which goes only to HF_ENDPOINT ({}); set HF_ENDPOINT "
                          "to the lock's endpoint and HF_TOKEN",
                          src, rel, endpoint, current);
      }
      if (has_token) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: {}: the Hub at {} refused the token (expired, revoked, or the repository is gone); "
                          "check HF_TOKEN",
                          src, rel, endpoint);
      }
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: {}: the Hub at {} wants a token (a gated or private repository): set HF_TOKEN", src, rel,
                        endpoint);
    };
    const bool lfs = f.extra.is_object() && f.extra.contains("lfs") && f.extra["lfs"].is_boolean() &&
                     f.extra["lfs"].get<bool>();
    if (!lfs) {
      if (!f.extra.is_object() || !f.extra.contains("git_sha1") || !f.extra["git_sha1"].is_string() ||
          !hf::is_lower_hex(f.extra["git_sha1"].get<std::string>(), 40)) {
        return make_error(ErrorCode::kInvalidArgument, "lock: {}: {}: a git file needs its git_sha1; run lock again",
                          src, rel);
      }
      item.git_sha1 = f.extra["git_sha1"].get<std::string>();
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

// [model] source = "hf://…": the Hub.
extern const SourceKind k_hf_source{
    .name = "hf",
    .manifest = "[model] source = \"hf://ORG/NAME\"",
    .resolve = [](const manifest::Manifest& m, const ResolveContext& ctx) -> Result<std::vector<LockedSource>> {
      std::vector<LockedSource> out;
      if (m.model && m.model->is_hub()) {
        ASSIGN_OR_RETURN(LockedSource s, resolve_hf_model(*m.model, ctx));
        out.push_back(std::move(s));
      }
      return out;
    },
    .owns = [](std::string_view kind, const json& id) { return kind == "model" && id.contains("repo"); },
    .payload_identity = nullptr,
    .fetch = hf_fetch_items,
    .describe = [](std::string_view, const json& id) -> std::string {
      if (id.contains("commit")) {
        return fmt::format("hf://{} @ {}", id.value("repo", ""), id.value("commit", ""));
      }
      return id.value("repo", "");
    },
};

}  // namespace airlock::bundler
