// [[wheels]] → a locked "wheels" source: every requirement of a hash-pinned
// requirements file looked up on a PEP 503/691 simple index, and exactly the
// files whose SHA-256 is pinned taken from it (one per platform when several
// pins match several files), as pip's hash-checking mode would accept them.

#include <set>

#include <fmt/core.h>

#include "bundler/sources/requirements.h"
#include "bundler/sources/simple_index.h"
#include "bundler/sources/sources.h"
#include "core/fs/file.h"

namespace airlock::bundler {
namespace {

// PEP 691 content negotiation: JSON preferred, HTML (PEP 503) accepted.
constexpr const char* k_accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.01";

Result<std::vector<py::IndexFile>> fetch_project_page(net::HttpClient& http, const manifest::WheelsSpec& spec,
                                                      const py::Requirement& req, std::string_view where) {
  std::string url = spec.index + req.normalized + "/";
  net::Request r;
  r.url = url;
  r.headers = {{"Accept", k_accept}};
  r.allow_insecure_http = spec.insecure;
  r.max_body = 64u << 20;
  ASSIGN_OR_RETURN(net::Response resp, http.send(r));
  if (resp.status == 404 || resp.status == 410) {
    return make_error(ErrorCode::kNotFound,
                      "[[wheels]] index {}: project '{}' ({}) not found at {}; check the name and the index URL",
                      spec.index, req.name, where, url);
  }
  if (resp.status / 100 != 2) {
    return make_error(ErrorCode::kIOError, "[[wheels]] index {}: {}: {}; check the index URL and try again",
                      spec.index, url, net::describe_status(resp.status));
  }
  std::string type = resp.headers.get("content-type").value_or("");
  std::string page = resp.url.empty() ? url : resp.url;
  bool json = type.starts_with("application/vnd.pypi.simple.v1+json") ||
              (type.empty() && !resp.body.empty() && resp.body.front() == '{');
  auto files = json ? py::parse_simple_json(resp.body, page) : py::parse_simple_html(resp.body, page);
  if (!files) {
    return std::unexpected(std::move(files).error().with_context(fmt::format("[[wheels]] index {}", spec.index)));
  }
  return files;
}

// The size of a file the index does not give one for: a HEAD, else the file
// itself, downloaded into the cache (where `create` will find it).
Result<std::uint64_t> file_size(net::HttpClient& http, const manifest::WheelsSpec& spec, const py::IndexFile& file,
                                const std::string& sha256, const ResolveContext& ctx) {
  net::Request head;
  head.method = "HEAD";
  head.url = file.url;
  head.allow_insecure_http = spec.insecure;
  ASSIGN_OR_RETURN(net::Response r, http.send(head));
  if (r.status / 100 == 2) {
    if (auto len = r.headers.get("content-length")) {
      try {
        std::size_t used = 0;
        unsigned long long n = std::stoull(*len, &used);
        if (used == len->size()) {
          return static_cast<std::uint64_t>(n);
        }
      } catch (const std::exception&) {
      }
    }
  }
  if (ctx.cache == nullptr) {
    return make_error(ErrorCode::kIOError, "[[wheels]] index {}: {}: the index gives no size and HEAD gave none",
                      spec.index, file.url);
  }
  net::FetchItem item;
  item.what = fmt::format("[[wheels]] {}", file.filename);
  item.url = file.url;
  item.sha256 = sha256;
  item.size_known = false;
  item.allow_insecure_http = spec.insecure;
  ASSIGN_OR_RETURN(net::FetchResult got, net::fetch_one(*ctx.cache, http, item, ctx.net));
  return got.size;
}

std::string pin_list(const py::Requirement& req) {
  std::string s;
  for (const auto& [algo, hex] : req.hashes) {
    s += (s.empty() ? "" : ", ") + algo + ":" + hex.substr(0, 12) + "…";
  }
  return s;
}


Result<LockedSource> resolve_wheels(const manifest::WheelsSpec& spec_in, const ResolveContext& ctx) {
  manifest::WheelsSpec spec = spec_in;
  if (!spec.index.ends_with('/')) {
    spec.index += '/';
  }
  TRY(net::check_url_allowed(spec.index, spec.insecure, fmt::format("[[wheels]] index {}", spec.index)));
  std::string file = spec.requirements.string();
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(spec.requirements, 16u << 20));
  auto parsed = py::parse_requirements(text, file);
  if (!parsed) {
    return std::unexpected(std::move(parsed).error().with_context(fmt::format("[[wheels]] index {}", spec.index)));
  }
  std::vector<py::Requirement> reqs = std::move(*parsed);
  if (reqs.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: no requirements; list NAME==VERSION --hash=sha256:HEX lines",
                      file);
  }
  const std::unique_ptr<net::HttpClient> client = ctx.http->open(ctx.net);
  net::HttpClient& http = *client;
  LockedSource src;
  src.kind = "wheels";
  nlohmann::json identity_reqs = nlohmann::json::array();
  std::set<std::string> paths;
  for (const py::Requirement& req : reqs) {
    std::string where = fmt::format("{}:{}", file, req.line);
    std::set<std::string> pins;
    nlohmann::json hashes = nlohmann::json::array();
    for (const auto& [algo, hex] : req.hashes) {
      hashes.push_back(algo + ":" + hex);
      if (algo == "sha256") {
        pins.insert(hex);
      }
    }
    if (pins.empty()) {
      return make_error(ErrorCode::kUnsupported,
                        "[[wheels]] {}: {} is pinned by sha384/sha512 only; airlock selects and verifies files by SHA-256: add "
                        "--hash=sha256:HEX (pip-compile --generate-hashes writes sha256)",
                        where, req.to_string());
    }
    ASSIGN_OR_RETURN(std::vector<py::IndexFile> files, fetch_project_page(http, spec, req, where));
    std::size_t taken = 0;
    std::set<std::string> seen;
    for (const py::IndexFile& f : files) {
      auto h = f.hashes.find("sha256");
      if (h == f.hashes.end() || !pins.contains(h->second) || !seen.insert(h->second).second) {
        continue;
      }
      if (!py::is_safe_dist_filename(f.filename) || !py::file_matches_requirement(f.filename, req)) {
        return make_error(ErrorCode::kInvalidArgument,
                          "[[wheels]] {}: the pin sha256:{} of {} selects '{}' on index {}, which is not {} {}; refusing it "
                          "(fix the hash, or the index is serving the wrong file)",
                          where, h->second, req.name, f.filename, spec.index, req.name, req.version);
      }
      TRY(net::check_url_allowed(f.url, spec.insecure, fmt::format("[[wheels]] {}", f.filename)));
      std::string path = "wheels/" + f.filename;
      if (!paths.insert(path).second) {
        return make_error(ErrorCode::kInvalidArgument, "{}: {} is selected twice (two requirements pin it)", where,
                          f.filename);
      }
      LockedFile lf;
      lf.path = path;
      lf.origin = f.url;
      lf.sha256 = h->second;
      if (f.size) {
        lf.size = *f.size;
      } else {
        ASSIGN_OR_RETURN(lf.size, file_size(http, spec, f, h->second, ctx));
      }
      lf.extra = {{"requirement", req.to_string()}};
      if (f.yanked && ctx.note) {
        ctx.note(fmt::format("[[wheels]] {}: {} is yanked on the index; taking it because it is pinned", where,
                             f.filename));
      }
      src.files.push_back(std::move(lf));
      ++taken;
    }
    if (taken == 0) {
      std::string listed;
      for (const py::IndexFile& f : files) {
        listed += (listed.empty() ? "" : ", ") + f.filename;
      }
      return make_error(ErrorCode::kNotFound,
                        "[[wheels]] {}: {}: no file on index {} matches its hashes ({}); the index lists {}. Check the hashes "
                        "(pip hash FILE) or the index",
                        where, req.to_string(), spec.index, pin_list(req), listed.empty() ? "no files" : listed);
    }
    identity_reqs.push_back({{"name", req.name}, {"version", req.version}, {"hashes", std::move(hashes)}});
  }
  src.identity = {{"index", spec.index}, {"requirements", std::move(identity_reqs)}, {"insecure", spec.insecure}};
  if (ctx.note) {
    ctx.note(fmt::format("[[wheels]] {}: {} requirement(s), {} file(s)", spec.index, reqs.size(), src.files.size()));
  }
  return src;
}

}  // namespace

// [[wheels]]: PEP 503/691 simple indexes.
extern const SourceKind k_wheels_source{
    .name = "wheels",
    .manifest = "[[wheels]]",
    .resolve = [](const manifest::Manifest& m, const ResolveContext& ctx) -> Result<std::vector<LockedSource>> {
      std::vector<LockedSource> out;
      for (const manifest::WheelsSpec& w : m.wheels) {
        ASSIGN_OR_RETURN(LockedSource s, resolve_wheels(w, ctx));
        out.push_back(std::move(s));
      }
      return out;
    },
    .owns = [](std::string_view kind, const nlohmann::json&) { return kind == "wheels"; },
    .payload_identity = nullptr,
    .fetch = [](const LockedSource& source, const ResolveContext&) -> Result<std::vector<net::FetchItem>> {
      return plain_fetch_items(source, source.identity.value("index", std::string("python index")));
    },
    .describe = [](std::string_view, const nlohmann::json& id) -> std::string { return id.value("index", ""); },
};

}  // namespace airlock::bundler
