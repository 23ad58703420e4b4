// [[image]] ref = "HOST/NAME:TAG": OCI images from a registry (distribution
// spec v1.1; docs REFERENCES "OCI registries"):
//   1. GET /v2/NAME/manifests/TAG with every manifest type in Accept; hash the
//      exact bytes and check them against Docker-Content-Digest and the digest
//      in the ref, if any;
//   2. from an index (or a Docker manifest list) pick the [[image]] platform
//      and GET that manifest by digest, checking it the same way;
//   3. GET the config blob (small; both it and the manifest go to the fetch
//      cache now) and list every layer by the digest and size the manifest
//      gives; `create` downloads them later through oci_fetch_items.
// The deployment gets an OCI image layout under images/: the blobs, plus an
// index.json (every image, annotated with its full ref) and oci-layout,
// carried inline in the lock by one "oci-layout" source.

#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "bundler/sources/oci_registry.h"
#include "bundler/sources/sources.h"
#include "cli/printer.h"
#include "core/crypto/sha256.h"
#include "core/oci/layout.h"

namespace airlock::bundler {

namespace {

using nlohmann::json;
using oci::ImageRef;
using oci::Platform;

constexpr std::size_t k_max_manifest = 4u << 20;  // the distribution spec lets registries refuse larger ones
constexpr std::size_t k_max_config = 32u << 20;
constexpr std::size_t k_max_layers = 10000;
using airlock::oci::k_ref_annotation;

// Fields of documents from the network (or a hand-edited lock), read
// without trusting their types: nlohmann's value() throws on a mismatch.
std::string str_field(const json& j, std::string_view key) {
  if (!j.is_object()) {
    return {};
  }
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::int64_t int_field(const json& j, std::string_view key) {
  if (!j.is_object()) {
    return -1;
  }
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
}
bool bool_field(const json& j, std::string_view key) {
  auto it = j.is_object() ? j.find(key) : j.end();
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
json field(const json& j, std::string_view key) {
  auto it = j.is_object() ? j.find(key) : j.end();
  return it != j.end() ? *it : json();
}

bool is_index_type(std::string_view t) { return t == oci::k_oci_index || t == oci::k_docker_list; }
bool is_manifest_type(std::string_view t) { return t == oci::k_oci_manifest || t == oci::k_docker_manifest; }

std::string hex_of(std::string_view digest) { return std::string(digest.substr(digest.find(':') + 1)); }
std::string blob_path(std::string_view digest) { return "images/blobs/sha256/" + hex_of(digest); }

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::uint64_t size = 0;
  std::optional<Platform> platform;
};

Result<Descriptor> parse_descriptor(const json& j, const std::string& image, std::string_view what) {
  if (!j.is_object() || !j.contains("digest") || !j["digest"].is_string() || !j.contains("size") ||
      !j["size"].is_number_unsigned()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: {} is not a descriptor (digest, size)", image, what);
  }
  Descriptor d;
  d.digest = j["digest"].get<std::string>();
  d.size = j["size"].get<std::uint64_t>();
  d.media_type = j.contains("mediaType") && j["mediaType"].is_string() ? j["mediaType"].get<std::string>() : "";
  TRY(oci::check_digest(d.digest, fmt::format("{}: {}", image, what)));
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    Platform pl;
    pl.os = str_field(*p, "os");
    pl.architecture = str_field(*p, "architecture");
    pl.variant = str_field(*p, "variant");
    d.platform = pl;
  }
  return d;
}

// A manifest or index as the registry sent it, verified against its digest.
struct Fetched {
  std::string bytes;
  std::string digest;  // "sha256:…" of bytes
  std::string media_type;
  std::string url;
  json doc;
};

// A manifest the registry does not have: some registries say MANIFEST_UNKNOWN
// for a missing repository too, so the tag list tells the two apart (and
// names the tags there are).
Error explain_missing(oci::Registry& reg, const net::Response& missing, std::string_view doing) {
  Error err = oci::registry_error(reg.ref(), missing, doing);
  auto tags = reg.get(fmt::format("{}/v2/{}/tags/list?n=100", reg.endpoint(), reg.ref().repository), false, 1u << 20);
  if (!tags) {
    return err;
  }
  if (tags->status == 404) {
    Error repo = oci::registry_error(reg.ref(), *tags, doing);
    return repo.message().find("NAME_UNKNOWN") != std::string::npos ? repo : err;
  }
  json j = json::parse(tags->body, nullptr, false);
  if (tags->status != 200 || !j.is_object() || !j.contains("tags") || !j["tags"].is_array()) {
    return err;
  }
  std::string list;
  std::size_t n = 0;
  for (const json& t : j["tags"]) {
    if (t.is_string() && n++ < 20) {
      list += (list.empty() ? "" : ", ") + oci::printable(t.get<std::string>(), 128);
    }
  }
  if (n > 20) {
    list += ", …";
  }
  return Error(err.code(), fmt::format("{} (the repository has {})", err.message(),
                                       list.empty() ? "no tags" : "tags: " + list));
}

Result<Fetched> get_manifest(oci::Registry& reg, const std::string& reference, const std::string& expected,
                             const std::string& doing) {
  const std::string image = reg.ref().full();
  Fetched f;
  f.url = reg.manifest_url(reference);
  ASSIGN_OR_RETURN(net::Response resp, reg.get(f.url, true, k_max_manifest));
  if (resp.status == 404) {
    return std::unexpected(explain_missing(reg, resp, doing));
  }
  if (resp.status != 200) {
    return std::unexpected(oci::registry_error(reg.ref(), resp, doing));
  }
  f.bytes = std::move(resp.body);
  f.digest = "sha256:" + crypto::sha256_hex(as_bytes(f.bytes));
  if (auto header = resp.headers.get("docker-content-digest"); header && header->starts_with("sha256:") &&
                                                               *header != f.digest) {
    return make_error(ErrorCode::kCorruption,
                      "{}: {}: the registry says its digest is {}, its bytes hash to {}; the registry or a proxy "
                      "altered it",
                      image, doing, oci::printable(*header, 80), f.digest);
  }
  if (!expected.empty() && expected != f.digest) {
    return make_error(ErrorCode::kCorruption, "{}: {}: asked for {}, the bytes the registry sent hash to {}", image,
                      doing, expected, f.digest);
  }
  f.doc = json::parse(f.bytes, nullptr, false);
  if (!f.doc.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: {}: the registry's answer is not a JSON manifest", image,
                      doing);
  }
  std::string content_type = resp.headers.get("content-type").value_or("");
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') {
    content_type.pop_back();
  }
  auto mt = f.doc.find("mediaType");
  const bool has_media_type = mt != f.doc.end() && mt->is_string();
  f.media_type = has_media_type ? mt->get<std::string>() : content_type;
  const bool schema1 = int_field(f.doc, "schemaVersion") == 1 || f.media_type.starts_with(
                                                                   "application/vnd.docker.distribution.manifest.v1");
  if (schema1) {
    return make_error(ErrorCode::kUnsupported,
                      "{}: {}: Docker schema 1 manifests are not supported (deprecated, unverifiable); push the image "
                      "again with a current docker, podman or skopeo",
                      image, doing);
  }
  if (!is_index_type(f.media_type) && !is_manifest_type(f.media_type)) {
    // OCI documents may omit mediaType; tell them apart by their fields.
    if (f.doc.contains("manifests")) {
      f.media_type = oci::k_oci_index;
    } else if (f.doc.contains("config") && f.doc.contains("layers") && !has_media_type) {
      f.media_type = oci::k_oci_manifest;
    } else {
      return make_error(ErrorCode::kUnsupported,
                        "{}: {}: media type '{}' is not an image (want an OCI or Docker v2 image manifest or index)",
                        image, doing, oci::printable(f.media_type, 120));
    }
  }
  return f;
}

// From an index, the entry for `wanted`; an error lists what the index has.
Result<Descriptor> pick_platform(const Fetched& index, const Platform& wanted, const std::string& image) {
  auto found = index.doc.find("manifests");
  if (found == index.doc.end() || !found->is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: the index {} has no manifests list", image, index.digest);
  }
  const json& list = *found;
  std::vector<Descriptor> candidates;
  std::vector<std::string> available;
  for (std::size_t i = 0; i < list.size(); ++i) {
    ASSIGN_OR_RETURN(Descriptor d, parse_descriptor(list[i], image, fmt::format("index entry #{}", i + 1)));
    if (!d.platform || d.platform->os == "unknown" || d.platform->architecture == "unknown") {
      continue;  // attestations and other artifacts
    }
    available.push_back(d.platform->str());
    if (oci::platform_matches(wanted, *d.platform)) {
      candidates.push_back(std::move(d));
    }
  }
  if (candidates.empty()) {
    std::string have;
    for (const std::string& p : available) {
      have += (have.empty() ? "" : ", ") + p;
    }
    return make_error(ErrorCode::kNotFound,
                      "{}: no image for platform {} in the index {} (it has: {}); set platform = \"OS/ARCH[/VARIANT]\" "
                      "in [[image]] to one of these",
                      image, wanted.str(), index.digest, have.empty() ? "no platform images" : have);
  }
  // Without a variant asked for, prefer the architecture's default one.
  for (const Descriptor& d : candidates) {
    if (d.platform->variant.empty() || (d.platform->architecture == "arm64" && d.platform->variant == "v8")) {
      return d;
    }
  }
  return candidates.front();
}

struct ResolvedImage {
  LockedSource source;
  json layout_entry;  // the descriptor for index.json
};

Result<ResolvedImage> resolve_one(net::HttpClient& http, const manifest::ImageSpec& spec, const ImageRef& ref,
                                  const Platform& wanted, const ResolveContext& ctx) {
  const std::string image = ref.full();
  oci::Registry reg(http, ref, spec.insecure);
  TRY(reg.check_allowed());
  ASSIGN_OR_RETURN(Fetched top, get_manifest(reg, ref.reference(), ref.digest, "manifest " + ref.reference()));
  Fetched chosen;
  std::string index_digest;
  std::optional<Platform> platform;
  if (is_index_type(top.media_type)) {
    ASSIGN_OR_RETURN(Descriptor d, pick_platform(top, wanted, image));
    if (!d.media_type.empty() && !is_manifest_type(d.media_type)) {
      return make_error(ErrorCode::kUnsupported, "{}: the index entry for {} is a '{}', not an image manifest", image,
                        d.platform->str(), oci::printable(d.media_type, 120));
    }
    ASSIGN_OR_RETURN(chosen, get_manifest(reg, d.digest, d.digest, fmt::format("manifest {} ({})", d.digest,
                                                                              d.platform->str())));
    if (chosen.bytes.size() != d.size) {
      return make_error(ErrorCode::kCorruption, "{}: manifest {}: the index says {} bytes, the registry sent {}", image,
                        d.digest, d.size, chosen.bytes.size());
    }
    if (!is_manifest_type(chosen.media_type)) {
      return make_error(ErrorCode::kUnsupported, "{}: the index entry for {} is a '{}', not an image manifest", image,
                        d.platform->str(), oci::printable(chosen.media_type, 120));
    }
    if (!d.media_type.empty()) {
      chosen.media_type = d.media_type;
    }
    index_digest = top.digest;
    platform = d.platform;
  } else {
    chosen = std::move(top);
  }
  if (int_field(chosen.doc, "schemaVersion") != 2) {
    return make_error(ErrorCode::kUnsupported, "{}: manifest {} has schemaVersion {}, want 2", image, chosen.digest,
                      field(chosen.doc, "schemaVersion").dump());
  }
  ASSIGN_OR_RETURN(Descriptor config, parse_descriptor(field(chosen.doc, "config"), image,
                                                      "the manifest's config"));
  const json layer_list = field(chosen.doc, "layers");
  if (!layer_list.is_array() || layer_list.size() > k_max_layers) {
    return make_error(ErrorCode::kInvalidArgument, "{}: manifest {} has no layer list (or more than {} layers)", image,
                      chosen.digest, k_max_layers);
  }
  std::vector<Descriptor> layers;
  for (std::size_t i = 0; i < layer_list.size(); ++i) {
    ASSIGN_OR_RETURN(Descriptor d, parse_descriptor(layer_list[i], image, fmt::format("layer #{}", i + 1)));
    if (d.media_type.find("nondistributable") != std::string::npos ||
        d.media_type.find("foreign") != std::string::npos) {
      return make_error(ErrorCode::kUnsupported,
                        "{}: layer {} is non-distributable ({}): registries do not serve it, so it cannot be shipped",
                        image, d.digest, d.media_type);
    }
    layers.push_back(std::move(d));
  }

  // The config: small, fetched now, and the image's own statement of its platform.
  const std::string config_url = reg.blob_url(config.digest);
  ASSIGN_OR_RETURN(net::Response cresp, reg.get(config_url, false, k_max_config));
  if (cresp.status != 200) {
    return std::unexpected(oci::registry_error(ref, cresp, "config " + config.digest));
  }
  const std::string config_sha = crypto::sha256_hex(as_bytes(cresp.body));
  if (cresp.body.size() != config.size || "sha256:" + config_sha != config.digest) {
    return make_error(ErrorCode::kCorruption,
                      "{}: config {}: the registry sent {} bytes hashing to sha256:{} ({} bytes expected); the "
                      "registry or a proxy altered it",
                      image, config.digest, cresp.body.size(), config_sha, config.size);
  }
  if (!platform) {
    json cfg = json::parse(cresp.body, nullptr, false);
    if (!str_field(cfg, "os").empty() && !str_field(cfg, "architecture").empty()) {
      Platform have{str_field(cfg, "os"), str_field(cfg, "architecture"), str_field(cfg, "variant")};
      // Configs often leave out the variant: only a different one counts.
      const bool same = have.os == wanted.os && have.architecture == wanted.architecture &&
                        (wanted.variant.empty() || have.variant.empty() || oci::platform_matches(wanted, have));
      if (!same) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: the image is for {}, not {}; set platform = \"{}\" in [[image]] if that is what you "
                          "want, or use a ref for {}",
                          image, have.str(), wanted.str(), have.str(), wanted.str());
      }
      platform = have;
    }
  }
  if (ctx.cache != nullptr) {
    TRY(ctx.cache->put(as_bytes(chosen.bytes)));
    TRY(ctx.cache->put(as_bytes(cresp.body)));
  }

  ResolvedImage out;
  LockedSource& s = out.source;
  s.kind = "image";
  s.identity = {{"ref", image},
                {"registry", ref.registry},
                {"repository", ref.repository},
                {"endpoint", reg.endpoint()},
                {"platform", wanted.str()},
                {"digest", chosen.digest},
                {"media_type", chosen.media_type},
                {"size", chosen.bytes.size()},
                {"insecure", spec.insecure}};
  if (!ref.tag.empty()) {
    s.identity["tag"] = ref.tag;
  }
  if (!ref.digest.empty()) {
    s.identity["requested_digest"] = ref.digest;
  }
  if (!index_digest.empty()) {
    s.identity["index_digest"] = index_digest;
  }
  std::set<std::string> seen;
  auto add = [&](const std::string& digest, std::uint64_t size, const std::string& origin, std::string_view role,
                 const std::string& media_type) {
    if (!seen.insert(digest).second) {
      return;  // the same blob twice in one image (empty layers): shipped once
    }
    LockedFile f;
    f.path = blob_path(digest);
    f.origin = origin;
    f.size = size;
    f.sha256 = hex_of(digest);
    f.extra = json{{"role", role}, {"media_type", media_type}};
    s.files.push_back(std::move(f));
  };
  add(chosen.digest, chosen.bytes.size(), reg.manifest_url(chosen.digest), "manifest", chosen.media_type);
  add(config.digest, config.size, config_url, "config", config.media_type);
  std::uint64_t total = chosen.bytes.size() + config.size;
  for (const Descriptor& d : layers) {
    add(d.digest, d.size, reg.blob_url(d.digest), "layer", d.media_type);
    total += d.size;
  }

  out.layout_entry = {{"mediaType", chosen.media_type},
                      {"digest", chosen.digest},
                      {"size", chosen.bytes.size()},
                      {"annotations", {{std::string(k_ref_annotation), image}}}};
  if (platform) {
    json p = {{"os", platform->os}, {"architecture", platform->architecture}};
    if (!platform->variant.empty()) {
      p["variant"] = platform->variant;
    }
    out.layout_entry["platform"] = p;
  }
  if (ctx.note) {
    ctx.note(fmt::format("{}: pinned {} to {} ({} layer{}, {})", image, wanted.str(), chosen.digest, layers.size(),
                         layers.size() == 1 ? "" : "s", cli::human_bytes(total)));
  }
  return out;
}

// Transport errors name the URL only; every error names the image.
Error name_image(Error e, const std::string& image) {
  if (e.message().starts_with(image + ":")) {
    return e;
  }
  return std::move(e).with_context(image);
}

LockedFile inline_file(std::string path, std::string content) {
  LockedFile f;
  f.path = std::move(path);
  f.origin = "inline";
  f.size = content.size();
  f.sha256 = crypto::sha256_hex(as_bytes(content));
  f.content = std::move(content);
  return f;
}


Result<std::vector<LockedSource>> resolve_oci(const std::vector<manifest::ImageSpec>& specs,
                                                 const ResolveContext& ctx) {
  std::vector<LockedSource> out;
  json entries = json::array();
  json refs = json::array();
  std::set<std::string> seen;
  const std::unique_ptr<net::HttpClient> client = ctx.http->open(ctx.net);
  net::HttpClient& http = *client;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const manifest::ImageSpec& spec = specs[i];
    auto ref = oci::parse_image_ref(spec.ref);
    if (!ref) {
      return std::unexpected(Error(ref.error()).with_context(fmt::format("[[image]] #{}", i + 1)));
    }
    auto platform = oci::parse_platform(spec.platform);
    if (!platform) {
      return std::unexpected(Error(platform.error()).with_context(fmt::format("[[image]] #{} ({})", i + 1, spec.ref)));
    }
    const std::string full = ref->full();
    if (!seen.insert(full).second) {
      return make_error(ErrorCode::kInvalidArgument,
                        "[[image]] #{}: {} is listed twice; the image layout names each image by its ref, so list it "
                        "once",
                        i + 1, full);
    }
    auto resolved = resolve_one(http, spec, *ref, *platform, ctx);
    if (!resolved) {
      return std::unexpected(name_image(std::move(resolved).error(), full));
    }
    ResolvedImage r = std::move(*resolved);
    entries.push_back(std::move(r.layout_entry));
    refs.push_back(full);
    out.push_back(std::move(r.source));
  }
  LockedSource layout;
  layout.kind = "oci-layout";
  layout.identity = {{"refs", refs}};
  // nlohmann's objects keep their keys sorted, and dump() without indent has
  // no whitespace: the same images give the same bytes.
  layout.files.push_back(inline_file("images/oci-layout", airlock::oci::layout_file_text()));
  layout.files.push_back(inline_file("images/index.json", airlock::oci::index_file_text(entries)));
  out.push_back(std::move(layout));
  return out;
}

Result<std::vector<net::FetchItem>> oci_fetch_items(const LockedSource& source, const ResolveContext& ctx) {
  const std::string label = str_field(source.identity, "ref");
  auto parsed = oci::parse_image_ref(label);
  if (!parsed) {
    return std::unexpected(Error(parsed.error()).with_context("lock"));
  }
  const ImageRef ref = *parsed;
  const bool insecure = bool_field(source.identity, "insecure");
  const std::string digest = str_field(source.identity, "digest");
  TRY(oci::check_digest(digest, fmt::format("lock: {}: digest", label)));
  const std::unique_ptr<net::HttpClient> client = ctx.http->open(ctx.net);
  net::HttpClient& http = *client;
  oci::Registry reg(http, ref, insecure);
  TRY(reg.check_allowed());
  // Files must come from this repository: the token is for it alone.
  const std::string base = fmt::format("{}/v2/{}/", reg.endpoint(), ref.repository);
  bool all_cached = ctx.cache != nullptr;
  for (const LockedFile& f : source.files) {
    if (!f.is_remote()) {
      continue;
    }
    if (f.path != blob_path("sha256:" + f.sha256)) {
      return make_error(ErrorCode::kInvalidArgument, "lock: {}: {} is not where the blob sha256:{} goes; run lock again",
                        label, f.path, f.sha256);
    }
    if (!f.origin.starts_with(base)) {
      return make_error(ErrorCode::kInvalidArgument, "lock: {}: {}: origin {} is not under {}; run lock again", label,
                        f.path, f.origin, base);
    }
    all_cached = all_cached && ctx.cache->find(f.sha256, f.size).has_value();
  }
  // A fresh token, unless everything is already cached (then nothing is
  // downloaded, and `create` works without the registry).
  const std::string probe = reg.manifest_url(digest);
  std::string authorization;
  if (!all_cached) {
    auto auth = reg.authorize(probe);
    if (!auth) {
      return std::unexpected(name_image(std::move(auth).error(), label));
    }
    authorization = std::move(*auth);
  }
  auto reauthorize = [ref, insecure, probe, options = ctx.net, connector = ctx.http]() -> Result<std::string> {
    const std::unique_ptr<net::HttpClient> h = connector->open(options);  // called from a fetch worker: its own
    oci::Registry r(*h, ref, insecure);
    auto auth = r.authorize(probe);
    if (!auth) {
      return std::unexpected(name_image(std::move(auth).error(), ref.full()));
    }
    return auth;
  };
  std::vector<net::FetchItem> out;
  for (const LockedFile& f : source.files) {
    if (!f.is_remote()) {
      continue;
    }
    std::string role = str_field(f.extra, "role");
    if (role != "manifest" && role != "config" && role != "layer") {
      role = "blob";
    }
    net::FetchItem it;
    it.what = fmt::format("{}: {} sha256:{}", label, role, f.sha256);
    it.url = f.origin;
    it.sha256 = f.sha256;
    it.size = f.size;
    it.authorization = authorization;
    it.allow_insecure_http = insecure;
    if (role == "manifest") {
      it.headers.emplace_back("Accept", oci::manifest_accept());
    }
    it.reauthorize = reauthorize;
    out.push_back(std::move(it));
  }
  return out;
}

}  // namespace

// [[image]]: OCI registries.
extern const SourceKind k_oci_source{
    .name = "oci",
    .manifest = "[[image]]",
    .resolve = [](const manifest::Manifest& m, const ResolveContext& ctx) -> Result<std::vector<LockedSource>> {
      if (m.images.empty()) {
        return std::vector<LockedSource>();
      }
      return resolve_oci(m.images, ctx);
    },
    .owns = [](std::string_view kind, const json&) { return kind == "image" || kind == "oci-layout"; },
    .payload_identity = nullptr,
    .fetch = [](const LockedSource& source, const ResolveContext& ctx) -> Result<std::vector<net::FetchItem>> {
      if (source.kind == "image") {
        return oci_fetch_items(source, ctx);
      }
      return plain_fetch_items(source, source.kind);  // the layout's files are inline: nothing to download
    },
    .describe = [](std::string_view kind, const json& id) -> std::string {
      if (kind != "image" || !id.contains("ref")) {
        return "";
      }
      return fmt::format("{} {} {}", id.value("ref", ""), id.value("platform", ""), id.value("digest", ""));
    },
};

}  // namespace airlock::bundler
