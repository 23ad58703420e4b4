// [[deb]] entries → locked "deb" sources: each repository's index fetched and
// verified (apt_repo), the packages and their dependencies chosen across
// every entry (apt_resolve), every chosen .deb pinned by the SHA-256 and size
// its signed Packages file gives.

#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "bundler/sources/apt_repo.h"
#include "bundler/sources/apt_resolve.h"
#include "bundler/sources/sources.h"
#include "core/base/text.h"
#include "core/fs/file.h"

namespace airlock::bundler {
namespace {

bool is_lower_hex64(std::string_view s) { return text::is_lower_hex(s, 64); }

bool is_safe_deb_basename(std::string_view name) {
  if (name.size() < 5 || name.size() > 255 || name.front() == '.' || !name.ends_with(".deb")) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '+' || c == '~' || c == '%';
  });
}

// The Filename of a chosen package, checked: relative to the repository,
// no "..", a plain .deb basename. Returns it without a leading "./".
Result<std::string> checked_filename(const apt::DebPackage& p, const apt::RepoIndex& repo) {
  std::string_view f = p.filename;
  while (f.starts_with("./")) {
    f.remove_prefix(2);
  }
  std::string_view base = f.substr(f.rfind('/') == std::string_view::npos ? 0 : f.rfind('/') + 1);
  bool ok_chars = std::all_of(f.begin(), f.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '+' || c == '~' || c == '%' || c == '/';
  });
  if (f.empty() || !ok_chars || !manifest::is_safe_relative_path(f) || !is_safe_deb_basename(base)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "apt repo {}: package {} {}: unsafe or missing Filename '{}' (must be a relative path to a "
                      ".deb, no '..'); refusing it",
                      repo.label, p.name, p.version, p.filename);
  }
  if (!is_lower_hex64(p.sha256)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "apt repo {}: package {} {}: its Packages stanza has no SHA256; airlock pins every .deb by "
                      "SHA-256 (regenerate the index with dpkg-scanpackages or apt-ftparchive)",
                      repo.label, p.name, p.version);
  }
  if (p.size == 0) {
    return make_error(ErrorCode::kInvalidArgument, "apt repo {}: package {} {}: its Packages stanza has no Size",
                      repo.label, p.name, p.version);
  }
  return std::string(f);
}


Result<std::vector<LockedSource>> resolve_apt(const std::vector<manifest::AptSpec>& specs,
                                               const ResolveContext& ctx) {
  auto note = [&](const std::string& line) {
    if (ctx.note) {
      ctx.note(line);
    }
  };
  const std::unique_ptr<net::HttpClient> client = ctx.http->open(ctx.net);
  net::HttpClient& http = *client;
  std::vector<apt::RepoIndex> repos;
  std::vector<apt::Request> requests;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    ASSIGN_OR_RETURN(apt::RepoIndex index, apt::fetch_repo_index(specs[i], i, http, *ctx.processes, ctx.clock->now_seconds(), ctx.note));
    repos.push_back(std::move(index));
    for (const std::string& p : specs[i].packages) {
      requests.push_back(apt::parse_request(p, i));
    }
  }
  std::vector<apt::InstalledPackage> installed;
  if (ctx.target_status) {
    ASSIGN_OR_RETURN(std::string status, fs::read_text_file(*ctx.target_status, 1ull << 30));
    ASSIGN_OR_RETURN(installed, apt::parse_dpkg_status(status, fmt::format("--target-status {}",
                                                                           ctx.target_status->string())));
  }
  ASSIGN_OR_RETURN(apt::Resolution res, apt::resolve_packages(repos, requests, installed));
  for (const std::string& n : res.notes) {
    note(n);
  }

  // Per entry, its packages by name (a stable, readable lock).
  std::vector<std::vector<const apt::Chosen*>> per_repo(specs.size());
  for (const apt::Chosen& c : res.chosen) {
    per_repo[c.package->repo].push_back(&c);
  }
  std::map<std::string, std::string> basenames;  // → "package version", to catch two files at one path
  std::vector<LockedSource> out;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const manifest::AptSpec& spec = specs[i];
    const apt::RepoIndex& repo = repos[i];
    std::sort(per_repo[i].begin(), per_repo[i].end(), [](const apt::Chosen* a, const apt::Chosen* b) {
      return a->package->name < b->package->name;
    });
    LockedSource src;
    src.kind = "deb";
    nlohmann::json packages = nlohmann::json::array();
    for (const apt::Chosen* c : per_repo[i]) {
      const apt::DebPackage& p = *c->package;
      ASSIGN_OR_RETURN(std::string filename, checked_filename(p, repo));
      std::string base = filename.substr(filename.rfind('/') == std::string::npos ? 0 : filename.rfind('/') + 1);
      std::string who = fmt::format("{} {}", p.name, p.version);
      auto [it, inserted] = basenames.emplace(base, who);
      if (!inserted) {
        return make_error(ErrorCode::kInvalidArgument, "apt repo {}: {} and {} would both ship as debs/{}",
                          repo.label, it->second, who, base);
      }
      LockedFile f;
      f.path = "debs/" + base;
      f.origin = repo.base_url + filename;
      f.size = p.size;
      f.sha256 = p.sha256;
      f.mode = 0644;
      f.extra = {{"package", p.name},
                 {"version", p.version},
                 {"architecture", p.architecture},
                 {"control", p.control}};
      if (!c->requested) {
        f.extra["needed_by"] = c->needed_by;
      }
      src.files.push_back(std::move(f));
      packages.push_back({{"package", p.name},
                          {"version", p.version},
                          {"architecture", p.architecture},
                          {"sha256", p.sha256},
                          {"filename", p.filename}});
    }
    src.identity = {{"repo", spec.repo},
                    {"suite", spec.suite},
                    {"components", spec.suite.empty() ? std::vector<std::string>{} : spec.components},
                    {"architecture", spec.architecture},
                    {"requested", spec.packages},
                    {"signed", repo.is_signed},
                    // Plain http is allowed for its files (signed-by or insecure = true):
                    // every file is pinned by a SHA-256 from signed metadata.
                    {"insecure", repo.allow_http},
                    {"packages", std::move(packages)}};
    out.push_back(std::move(src));
  }
  std::size_t requested = static_cast<std::size_t>(
      std::count_if(res.chosen.begin(), res.chosen.end(), [](const apt::Chosen& c) { return c.requested; }));
  note(fmt::format("apt: {} package(s): {} requested, {} dependencies{}", res.chosen.size(), requested,
                   res.chosen.size() - requested,
                   ctx.target_status ? fmt::format(", {} dependencies already satisfied on the target",
                                                   res.satisfied_on_target.size())
                                     : std::string()));
  return out;
}

}  // namespace

// [[deb]]: apt repositories.
extern const SourceKind k_apt_source{
    .name = "apt",
    .manifest = "[[deb]]",
    .resolve = [](const manifest::Manifest& m, const ResolveContext& ctx) -> Result<std::vector<LockedSource>> {
      if (m.apt.empty()) {
        return std::vector<LockedSource>();
      }
      return resolve_apt(m.apt, ctx);
    },
    .owns = [](std::string_view kind, const nlohmann::json&) { return kind == "deb"; },
    .payload_identity = nullptr,
    .fetch = [](const LockedSource& source, const ResolveContext&) -> Result<std::vector<net::FetchItem>> {
      return plain_fetch_items(source, source.identity.value("repo", std::string("apt repository")));
    },
    .describe = [](std::string_view, const nlohmann::json& id) -> std::string { return id.value("repo", ""); },
};

}  // namespace airlock::bundler
