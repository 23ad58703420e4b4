#include "bundler/sources/apt_repo.h"

#include <charconv>
#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include <fmt/core.h>

#include "bundler/sources/gpgv.h"
#include "core/archive/decompress.h"
#include "core/base/text.h"
#include "core/crypto/sha256.h"

namespace airlock::bundler::apt {
namespace {

constexpr std::size_t k_max_release = 32u << 20;
constexpr std::uint64_t k_max_packages = 1ull << 30;  // decompressed; Debian's main/amd64 is ~60 MiB

struct ReleaseEntry {
  std::string sha256;
  std::uint64_t size = 0;
};

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

bool is_sha256_hex(std::string_view s) { return text::is_lower_hex(s, 64); }

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

Result<net::Response> get(net::HttpClient& http, const std::string& url, bool allow_http, std::size_t max_body) {
  net::Request req;
  req.url = url;
  req.allow_insecure_http = allow_http;
  req.max_body = max_body;
  return http.send(req);
}

bool is_missing(long status) { return status == 404 || status == 410; }

Error http_error(const net::Response& r, const std::string& url, std::string_view label) {
  return Error(ErrorCode::kIOError, fmt::format("apt repo {}: {}: {}; check the repository URL and try again", label,
                                                url, net::describe_status(r.status)));
}

// The Release text and whether its signature was checked.
struct Release {
  std::string text;
  std::string url;  // of the file the text came from
  bool is_signed = false;
};

Result<Release> fetch_release(const manifest::AptSpec& spec, const std::string& dist_url, bool allow_http,
                              net::HttpClient& http, os::ProcessRunner& runner, std::string_view label) {
  Release rel;
  std::string inrelease_url = dist_url + "InRelease";
  ASSIGN_OR_RETURN(net::Response in, get(http, inrelease_url, allow_http, k_max_release));
  if (in.status / 100 == 2) {
    rel.url = inrelease_url;
    if (spec.signed_by) {
      ASSIGN_OR_RETURN(rel.text, gpgv_verify(runner, *spec.signed_by, in.body, std::nullopt,
                                             fmt::format("apt repo {}: {}", label, inrelease_url)));
      rel.is_signed = true;
    } else {
      auto text = clearsigned_text(in.body);
      if (!text) {
        return std::unexpected(std::move(text).error().with_context(fmt::format("apt repo {}: {}", label, inrelease_url)));
      }
      rel.text = std::move(*text);
    }
    return rel;
  }
  if (!is_missing(in.status)) {
    return std::unexpected(http_error(in, inrelease_url, label));
  }
  std::string release_url = dist_url + "Release";
  ASSIGN_OR_RETURN(net::Response r, get(http, release_url, allow_http, k_max_release));
  if (is_missing(r.status)) {
    return make_error(ErrorCode::kNotFound,
                      "apt repo {}: no InRelease or Release file at {} (as apt says, it \"does not have a Release "
                      "file\"); check 'repo'{}",
                      label, dist_url, spec.suite.empty() ? " (a flat repository keeps them at its root)" : " and 'suite'");
  }
  if (r.status / 100 != 2) {
    return std::unexpected(http_error(r, release_url, label));
  }
  rel.url = release_url;
  rel.text = std::move(r.body);
  if (!spec.signed_by) {
    return rel;
  }
  std::string sig_url = dist_url + "Release.gpg";
  ASSIGN_OR_RETURN(net::Response sig, get(http, sig_url, allow_http, 1u << 20));
  if (is_missing(sig.status)) {
    return make_error(ErrorCode::kUntrusted,
                      "apt repo {}: {} is not signed (no InRelease, no Release.gpg) but signed-by is set; refusing "
                      "it. Use the repository's signed URL, or drop signed-by only if you trust the transport",
                      label, release_url);
  }
  if (sig.status / 100 != 2) {
    return std::unexpected(http_error(sig, sig_url, label));
  }
  ASSIGN_OR_RETURN(rel.text, gpgv_verify(runner, *spec.signed_by, rel.text, std::string_view(sig.body),
                                         fmt::format("apt repo {}: {}", label, release_url)));
  rel.is_signed = true;
  return rel;
}

// "Sat, 16 Nov 2024 10:21:31 UTC" (RFC 2822, as apt writes and reads it).
std::optional<std::time_t> parse_release_date(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) {
    return std::nullopt;
  }
  std::string_view zone(end);
  while (!zone.empty() && zone.front() == ' ') {
    zone.remove_prefix(1);
  }
  if (!zone.empty() && zone != "UTC" && zone != "GMT" && zone != "Z" && zone != "+0000") {
    return std::nullopt;
  }
  return ::timegm(&tm);
}

Result<std::map<std::string, ReleaseEntry>> parse_release(const Release& rel, std::string_view label, std::int64_t now) {
  std::string what = fmt::format("apt repo {}: {}", label, rel.url);
  auto stanzas = parse_stanzas(rel.text);
  if (!stanzas) {
    return std::unexpected(std::move(stanzas).error().with_context(what));
  }
  if (stanzas->empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: empty Release file", what);
  }
  const Stanza& s = stanzas->front();
  if (auto until = s.get("Valid-Until")) {
    std::optional<std::time_t> t = parse_release_date(std::string(*until));
    if (!t) {
      return make_error(ErrorCode::kInvalidArgument, "{}: cannot read Valid-Until '{}'", what, *until);
    }
    if (*t < now) {
      return make_error(ErrorCode::kExpired,
                        "{}: the Release file expired on {} (Valid-Until); the mirror is stale or replaying old "
                        "metadata: use a current mirror",
                        what, *until);
    }
  }
  auto sums = s.get("SHA256");
  if (!sums) {
    return make_error(ErrorCode::kUntrusted, "{}: Release has no SHA256 section (apt refuses such repositories too)",
                      what);
  }
  std::map<std::string, ReleaseEntry> entries;
  std::size_t p = 0;
  std::string_view v = *sums;
  while (p < v.size()) {
    std::size_t nl = v.find('\n', p);
    std::string_view line = v.substr(p, nl == std::string_view::npos ? std::string_view::npos : nl - p);
    p = nl == std::string_view::npos ? v.size() : nl + 1;
    std::vector<std::string_view> w;
    std::size_t a = 0;
    while (a < line.size()) {
      std::size_t b = line.find_first_of(" \t", a);
      if (b == std::string_view::npos) {
        b = line.size();
      }
      if (b > a) {
        w.push_back(line.substr(a, b - a));
      }
      a = b + 1;
    }
    if (w.empty()) {
      continue;
    }
    std::optional<std::uint64_t> size = w.size() == 3 ? parse_u64(w[1]) : std::nullopt;
    std::string hash = lower(std::string(w[0]));
    if (!size || !is_sha256_hex(hash)) {
      return make_error(ErrorCode::kInvalidArgument, "{}: bad SHA256 line '{}'", what, line);
    }
    entries[std::string(w[2])] = ReleaseEntry{hash, *size};
  }
  return entries;
}

Status check_hash(std::string_view data, const ReleaseEntry& want, std::string_view what, std::string_view label) {
  if (data.size() != want.size) {
    return make_error(ErrorCode::kCorruption,
                      "apt repo {}: {}: size {} does not match Release ({}): the mirror is inconsistent or tampered "
                      "with; retry later or use another mirror",
                      label, what, data.size(), want.size);
  }
  std::string got = crypto::sha256_hex(as_bytes(data));
  if (got != want.sha256) {
    return make_error(ErrorCode::kCorruption,
                      "apt repo {}: {}: SHA-256 mismatch (Release says {}, got {}): the mirror is inconsistent or "
                      "tampered with; retry later or use another mirror",
                      label, what, want.sha256, got);
  }
  return ok_status();
}

// The Packages file of one component (prefix "main/binary-amd64/", or "" for a flat repo).
Result<std::string> fetch_packages(const std::map<std::string, ReleaseEntry>& release, const std::string& dist_url,
                                   const std::string& prefix, bool allow_http, net::HttpClient& http,
                                   std::string_view label) {
  std::string plain = prefix + "Packages";
  bool listed = false;
  for (std::string_view ext : {".xz", ".gz", ""}) {
    std::string path = plain + std::string(ext);
    auto it = release.find(path);
    if (it == release.end()) {
      continue;
    }
    listed = true;
    std::string url = dist_url + path;
    ASSIGN_OR_RETURN(net::Response r,
                     get(http, url, allow_http, static_cast<std::size_t>(std::min<std::uint64_t>(it->second.size + 1,
                                                                                                 k_max_packages))));
    if (is_missing(r.status)) {
      continue;  // listed but not served in this compression: try the next, as apt does
    }
    if (r.status / 100 != 2) {
      return std::unexpected(http_error(r, url, label));
    }
    TRY(check_hash(r.body, it->second, url, label));
    if (ext.empty()) {
      return std::move(r.body);
    }
    auto plain_entry = release.find(plain);
    std::uint64_t limit = plain_entry != release.end() ? plain_entry->second.size : k_max_packages;
    ASSIGN_OR_RETURN(std::string text, archive::decompress(r.body, limit, fmt::format("apt repo {}: {}", label, url)));
    if (plain_entry != release.end()) {
      TRY(check_hash(text, plain_entry->second, fmt::format("{} (decompressed)", url), label));
    }
    return text;
  }
  if (listed) {
    return make_error(ErrorCode::kNotFound, "apt repo {}: Release lists {}[.xz|.gz] but the server has none of them",
                      label, dist_url + plain);
  }
  return make_error(ErrorCode::kNotFound,
                    "apt repo {}: its Release lists no {}[.xz|.gz]{}; check 'components' and 'architecture'", label,
                    plain, prefix.empty() ? " (is this a flat repository? without 'suite' it must be)" : "");
}

}  // namespace

std::string repo_label(const manifest::AptSpec& spec) {
  if (spec.suite.empty()) {
    return spec.repo;
  }
  std::string s = spec.repo + " " + spec.suite;
  for (const std::string& c : spec.components) {
    s += " " + c;
  }
  return s;
}

Result<std::vector<DebPackage>> parse_packages(std::string_view text, std::string_view arch, std::size_t repo,
                                               std::string_view what) {
  auto stanzas = parse_stanzas(text);
  if (!stanzas) {
    return std::unexpected(std::move(stanzas).error().with_context(what));
  }
  std::vector<DebPackage> out;
  for (Stanza& s : *stanzas) {
    auto name = s.get("Package");
    auto version = s.get("Version");
    auto pkg_arch = s.get("Architecture");
    if (!name || !version || !pkg_arch) {
      return make_error(ErrorCode::kInvalidArgument, "{}: line {}: stanza without Package, Version or Architecture",
                        what, s.line);
    }
    if (*pkg_arch != arch && *pkg_arch != "all") {
      continue;
    }
    DebPackage p;
    p.name = std::string(*name);
    p.version = std::string(*version);
    p.architecture = std::string(*pkg_arch);
    p.repo = repo;
    auto where = [&](std::string_view field) { return fmt::format("{}: {} {}: {}", what, p.name, p.version, field); };
    for (std::string_view field : {"Pre-Depends", "Depends"}) {
      if (auto v = s.get(field)) {
        auto clauses = parse_dependencies(*v);
        if (!clauses) {
          return std::unexpected(std::move(clauses).error().with_context(where(field)));
        }
        p.depends.insert(p.depends.end(), clauses->begin(), clauses->end());
      }
    }
    if (auto v = s.get("Provides")) {
      auto clauses = parse_dependencies(*v);
      if (!clauses) {
        return std::unexpected(std::move(clauses).error().with_context(where("Provides")));
      }
      for (DepClause& c : *clauses) {
        if (c.size() != 1 || (c[0].relation != Relation::kAny && c[0].relation != Relation::kEqual)) {
          return make_error(ErrorCode::kInvalidArgument, "{}: only 'name' or 'name (= version)' may be provided",
                            where("Provides"));
        }
        p.provides.push_back(std::move(c[0]));
      }
    }
    p.multi_arch = s.get_or("Multi-Arch");
    p.filename = s.get_or("Filename");
    if (auto size = s.get("Size")) {
      std::optional<std::uint64_t> n = parse_u64(*size);
      if (!n) {
        return make_error(ErrorCode::kInvalidArgument, "{}: bad Size '{}'", where("Size"), *size);
      }
      p.size = *n;
    }
    p.sha256 = lower(s.get_or("SHA256"));
    p.control = std::move(s.text);
    out.push_back(std::move(p));
  }
  return out;
}

Result<RepoIndex> fetch_repo_index(const manifest::AptSpec& spec, std::size_t repo, net::HttpClient& http,
                                   os::ProcessRunner& runner, std::int64_t now,
                                   const std::function<void(const std::string&)>& note) {
  RepoIndex index;
  index.label = repo_label(spec);
  index.architecture = spec.architecture;
  index.base_url = spec.repo.ends_with('/') ? spec.repo : spec.repo + "/";
  // Plain http is acceptable where the signature protects the metadata (and
  // the metadata pins every file's hash), as apt allows it; else loopback or insecure = true.
  index.allow_http = spec.insecure || spec.signed_by.has_value();
  TRY(net::check_url_allowed(index.base_url, index.allow_http, fmt::format("[[deb]] repo {}", index.label)));
  std::string dist_url = spec.suite.empty() ? index.base_url : index.base_url + "dists/" + spec.suite + "/";
  ASSIGN_OR_RETURN(Release rel, fetch_release(spec, dist_url, index.allow_http, http, runner, index.label));
  index.is_signed = rel.is_signed;
  if (!rel.is_signed && note) {
    note(fmt::format("apt repo {}: no signed-by: its Release is trusted unsigned, as far as the transport is "
                     "trusted; set signed-by = \"KEYRING.gpg\" to check its signature",
                     index.label));
  }
  ASSIGN_OR_RETURN(auto release, parse_release(rel, index.label, now));
  std::vector<std::string> prefixes;
  if (spec.suite.empty()) {
    prefixes.emplace_back();
  } else {
    for (const std::string& c : spec.components.empty() ? std::vector<std::string>{"main"} : spec.components) {
      prefixes.push_back(fmt::format("{}/binary-{}/", c, spec.architecture));
    }
  }
  for (const std::string& prefix : prefixes) {
    ASSIGN_OR_RETURN(std::string text, fetch_packages(release, dist_url, prefix, index.allow_http, http, index.label));
    ASSIGN_OR_RETURN(std::vector<DebPackage> pkgs,
                     parse_packages(text, spec.architecture, repo,
                                    fmt::format("apt repo {}: {}", index.label, dist_url + prefix + "Packages")));
    index.packages.insert(index.packages.end(), std::make_move_iterator(pkgs.begin()),
                          std::make_move_iterator(pkgs.end()));
  }
  return index;
}

}  // namespace airlock::bundler::apt
