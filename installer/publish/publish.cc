// The publish logic (installer/commands/publish.cc is the verb): push a
// version's images (manifest digests unchanged) and its model (as an OCI
// artifact) into the site's own registry, so a whole cluster on the isolated
// network pulls from there. The pushing is skopeo's: the installer itself
// holds no network code, it only runs `skopeo copy` with an argv vector.
#include "installer/publish/publish.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/base/interrupt.h"
#include "cli/printer.h"
#include "core/base/text.h"
#include "core/crypto/sha256.h"
#include "core/format/sources.h"
#include "core/fs/file.h"
#include "core/oci/layout.h"
#include "core/oci/media_types.h"
#include "core/oci/ref.h"
#include "installer/publish/modelpack.h"
#include "installer/targets/layout.h"
#include "core/os/process_runner.h"

namespace airlock::installer {

namespace {

using json = nlohmann::json;

using oci::is_path_component;
using oci::is_repository;
using oci::is_tag;
using oci::k_oci_manifest;
using oci::k_ref_annotation;
using oci::k_title_annotation;
using modelpack::k_artifact_type;
constexpr std::uint64_t k_max_json = 16 << 20;

// Where to push: "host:5000" or "host:5000/team", and whether over plain http.
struct Registry {
  std::string base;
  bool insecure = false;
};

// One `skopeo copy`: an image of the version's layout, or the model artifact.
struct Push {
  std::string kind;         // "image" | "model"
  std::string source;       // the ref it was pulled as, or "NAME VERSION model/"
  stdfs::path layout;       // an OCI image layout
  std::string layout_ref;   // its org.opencontainers.image.ref.name there
  std::string destination;  // REGISTRY/PATH:TAG
  std::string digest;       // the manifest digest it must keep
};

bool is_sha256_digest(std::string_view d) { return oci::check_digest(d, "").has_value(); }

Result<Registry> parse_registry(std::string text, bool insecure) {
  if (text.find("://") != std::string::npos) {
    return make_error(ErrorCode::kUsage,
                      "--registry takes HOST[:PORT][/PREFIX] without a scheme (got '{}'); plain http is --insecure",
                      text);
  }
  while (text.ends_with('/')) {
    text.pop_back();
  }
  const std::size_t slash = text.find('/');
  const std::string host = text.substr(0, slash);
  const bool host_ok =
      host.starts_with('[')
          ? host.find(']') != std::string::npos
          : !host.empty() &&
                host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") ==
                    std::string::npos;
  if (!host_ok || (slash != std::string::npos && !is_repository(text.substr(slash + 1)))) {
    return make_error(ErrorCode::kUsage,
                      "--registry '{}' is not HOST[:PORT][/PREFIX] (e.g. registry.lan:5000 or registry.lan:5000/team; "
                      "the prefix in lowercase)",
                      text);
  }
  return Registry{text, insecure || text::host_is_loopback(host)};
}

// "127.0.0.1:5000/engine:v1" -> "engine:v1"; "docker.io/vllm/vllm-openai:v0.6.3"
// -> "vllm/vllm-openai:v0.6.3". A digest-only ref gets the tag sha256-<hex of
// what is pushed>: a registry's garbage collector keeps tagged manifests.
Result<std::string> repository_and_tag(const std::string& ref, const std::string& digest) {
  auto parsed = oci::parse_image_ref(ref);  // the bundler's grammar: the refs are the ones it wrote
  if (!parsed) {
    return make_error(ErrorCode::kInvalidArgument, "image ref '{}' has no repository path and tag to push it under",
                      ref);
  }
  const std::string tag = parsed->tag.empty() ? "sha256-" + digest.substr(7) : parsed->tag;
  return parsed->repository + ":" + tag;
}

Result<std::string> pick_version(Site& site, const std::string& name, const std::string& wanted) {
  ASSIGN_OR_RETURN(auto versions, site.ledger().versions(name));
  if (versions.empty()) {
    return make_error(ErrorCode::kNotFound, "no deployment named '{}' is installed (see 'airlock-installer list')",
                      name);
  }
  if (wanted.empty()) {
    ASSIGN_OR_RETURN(auto active, site.ledger().active_version(name));
    if (!active) {
      return make_error(ErrorCode::kNotFound, "{} has no active version; name one with --version", name);
    }
    return *active;
  }
  auto it = std::find_if(versions.begin(), versions.end(), [&](const VersionRecord& v) { return v.version == wanted; });
  if (it == versions.end() || it->state != "installed") {
    return make_error(ErrorCode::kNotFound, "{} {} is not installed (see 'airlock-installer list')", name, wanted);
  }
  return wanted;
}

// A small installed file (index.json, a manifest), checked against the digest
// it is known by before anything is pushed from it.
Result<std::string> read_verified(const stdfs::path& path, const std::string& sha256_hex, const std::string& what,
                                  const std::string& deployment) {
  ASSIGN_OR_RETURN(Bytes data, fs::read_file(path, k_max_json));
  const std::string got = crypto::sha256_hex(data);
  if (got != sha256_hex) {
    return make_error(ErrorCode::kCorruption,
                      "{}: {}: SHA-256 mismatch (expected {}, got {}); nothing was pushed; run "
                      "'airlock-installer check {}'",
                      what, path.string(), sha256_hex, got, deployment);
  }
  return std::string(as_chars(data));
}

// One push per image of images/index.json, in its order.
Result<std::vector<Push>> plan_images(const stdfs::path& vdir, const std::vector<FileRecord>& files,
                                      const Registry& reg, const std::string& deployment) {
  std::vector<Push> out;
  auto rec =
      std::find_if(files.begin(), files.end(), [](const FileRecord& f) { return f.path == "images/index.json"; });
  if (rec == files.end()) {
    return out;
  }
  const stdfs::path layout = vdir / "images";
  ASSIGN_OR_RETURN(std::string text, read_verified(layout / "index.json", rec->sha256, "images", deployment));
  const json index = json::parse(text, nullptr, false);
  if (index.is_discarded() || !index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    return make_error(ErrorCode::kCorruption, "{}: not an OCI image index", (layout / "index.json").string());
  }
  for (const json& d : index["manifests"]) {
    auto string_at = [](const json& j, const char* key) {
      return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    const std::string digest = string_at(d, "digest");
    const std::string ref =
        d.is_object() && d.contains("annotations") ? string_at(d["annotations"], k_ref_annotation) : "";
    if (ref.empty() || !is_sha256_digest(digest)) {
      return make_error(ErrorCode::kCorruption, "{}: an entry without a sha256 digest and a {} annotation: {}",
                        (layout / "index.json").string(), k_ref_annotation, d.dump());
    }
    ASSIGN_OR_RETURN(std::string path, repository_and_tag(ref, digest));
    Push p{"image", ref, layout, ref, reg.base + "/" + path, digest};
    // The registry gets the manifest bytes skopeo reads; it would push
    // altered ones under another digest, so check them first.
    TRY(read_verified(layout / "blobs" / "sha256" / digest.substr(7), digest.substr(7), ref + ": manifest",
                      deployment));
    auto same = std::find_if(out.begin(), out.end(), [&](const Push& q) { return q.destination == p.destination; });
    if (same != out.end()) {
      if (same->digest == p.digest) {
        continue;  // the same image under two registries' names: one push
      }
      return make_error(ErrorCode::kInvalidArgument,
                        "{} and {} would both be pushed to {}; publish one of them with another --registry prefix",
                        same->source, ref, p.destination);
    }
    out.push_back(std::move(p));
  }
  return out;
}

// The safetensors header of an installed file (its JSON), or empty when it
// is not one; at most 100 MB, as the format allows.
std::string safetensors_header(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char len[8];
  if (!in.read(reinterpret_cast<char*>(len), 8)) {
    return "";
  }
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) {
    n = (n << 8) | len[i];
  }
  if (n == 0 || n > 100'000'000) {
    return "";
  }
  std::string header(n, '\0');
  return in.read(header.data(), static_cast<std::streamsize>(n)) ? header : std::string();
}

// What the config blob says about the model (docs/ARCHITECTURE.md "Publish").
struct ModelFacts {
  std::string name, revision, family, architecture, format, param_size, precision;
  std::vector<std::string> licenses;
};

Result<ModelFacts> model_facts(Site& site, const stdfs::path& vdir, const std::vector<const FileRecord*>& model,
                               const std::vector<FileRecord>& files, const std::string& name,
                               const std::string& version) {
  ModelFacts facts;
  facts.name = name;
  ASSIGN_OR_RETURN(VersionMeta meta, site.ledger().version_meta(name, version));
  std::map<std::string, format::ListedFile> listed;
  for (const FileRecord& f : files) {
    listed.emplace(f.path, format::ListedFile{f.size, f.sha256});
  }
  const json raw = json::parse(meta.sources, nullptr, false);
  if (!raw.is_discarded()) {
    if (auto sources = format::decode_sources(raw, listed)) {
      if (const format::Source* m = format::find_source(*sources, "model"); m && m->is_hub_model()) {
        facts.name = m->identity.repo;
        facts.revision = m->identity.commit;
      }
    }
  }
  std::map<std::string, std::uint64_t> by_dtype;
  std::uint64_t params = 0;
  bool gguf = false, pickle = false, safetensors = false;
  for (const FileRecord* f : model) {
    const std::string rel = f->path.substr(6);
    const std::string base = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
    if (rel.ends_with(".safetensors")) {
      safetensors = true;
      if (auto st = modelpack::safetensors_stats(safetensors_header(vdir / f->path))) {
        params += st->params;
        for (const auto& [d, n] : st->params_by_dtype) by_dtype[d] += n;
      }
    } else if (rel.ends_with(".gguf")) {
      gguf = true;
    } else if (modelpack::media_type_for(rel) == modelpack::k_weight_raw) {
      pickle = true;
    }
    if (rel == "config.json") {
      ASSIGN_OR_RETURN(std::string text, read_verified(vdir / f->path, f->sha256, "model config.json", name));
      const json c = json::parse(text, nullptr, false);
      if (c.is_object()) {
        if (c.contains("model_type") && c["model_type"].is_string()) {
          facts.family = c["model_type"].get<std::string>();
        }
        if (c.contains("num_attention_heads") || c.contains("n_head")) {
          facts.architecture = "transformer";
        }
      }
    }
    if (rel.find('/') == std::string::npos && (base == "README.md" || base == "readme.md")) {
      ASSIGN_OR_RETURN(std::string text, read_verified(vdir / f->path, f->sha256, "model README.md", name));
      facts.licenses = modelpack::readme_licenses(text);
    }
  }
  facts.format = safetensors ? "safetensors" : gguf ? "gguf" : pickle ? "pytorch" : "";
  if (params != 0) {
    facts.param_size = modelpack::param_size(params);
    facts.precision = modelpack::precision(by_dtype);
  }
  return facts;
}

// The model as a CNCF ModelPack v1 artifact in a fresh layout under `dir`:
// a config blob (descriptor, config, modelfs), one raw layer per file under
// model/ (media type by file kind, digest = the file's SHA-256, annotated
// with its path), blobs hardlinked from the version. Deterministic bytes
// (sorted keys, the bundle's creation time, never now), so publishing again
// gives the same digest.
Result<std::optional<Push>> stage_model(Site& site, const stdfs::path& vdir, const std::vector<FileRecord>& files,
                                        const stdfs::path& dir, const Registry& reg, const std::string& name,
                                        const std::string& version) {
  std::vector<const FileRecord*> model;
  for (const FileRecord& f : files) {
    if (f.path.starts_with("model/")) {
      model.push_back(&f);
    }
  }
  if (model.empty()) {
    return std::optional<Push>();
  }
  std::sort(model.begin(), model.end(), [](const FileRecord* a, const FileRecord* b) { return a->path < b->path; });
  std::string tag = version;
  std::replace(tag.begin(), tag.end(), '+', '_');  // tags cannot hold '+' (Helm does the same)
  if (!is_path_component(name) || !is_tag(tag)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} {}: cannot name the model artifact airlock/{}/model:{} (not a valid repository and tag)",
                      name, version, name, tag);
  }
  ASSIGN_OR_RETURN(auto versions, site.ledger().versions(name));
  auto record =
      std::find_if(versions.begin(), versions.end(), [&](const VersionRecord& v) { return v.version == version; });
  const std::string created = cli::iso_time(record == versions.end() ? 0 : record->created_at);
  const stdfs::path blobs = dir / "blobs" / "sha256";
  TRY(layout::make_dirs(blobs));
  json layers = json::array();
  json diff_ids = json::array();
  for (const FileRecord* f : model) {
    const stdfs::path src = vdir / f->path;
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != f->size) {
      return make_error(ErrorCode::kCorruption,
                        "{}: missing or not {} bytes as the ledger says; nothing was pushed; run "
                        "'airlock-installer check {}'",
                        src.string(), f->size, name);
    }
    TRY(layout::link_file(src, blobs / f->sha256));
    const std::string rel = f->path.substr(6);
    const json metadata = {{"name", rel},        {"mode", f->mode & 0777}, {"uid", 0}, {"gid", 0},
                           {"size", f->size},    {"mtime", created},       {"typeflag", 48}};
    layers.push_back({{"mediaType", modelpack::media_type_for(rel)},
                      {"digest", "sha256:" + f->sha256},
                      {"size", f->size},
                      {"annotations",
                       {{k_title_annotation, rel},
                        {modelpack::k_filepath_annotation, rel},
                        {modelpack::k_file_metadata_annotation, metadata.dump()}}}});
    diff_ids.push_back("sha256:" + f->sha256);  // a raw layer is its own uncompressed content
  }
  ASSIGN_OR_RETURN(ModelFacts facts, model_facts(site, vdir, model, files, name, version));
  json descriptor = {{"name", facts.name}, {"version", version}, {"createdAt", created}};
  if (!facts.revision.empty()) descriptor["revision"] = facts.revision;
  if (!facts.family.empty()) descriptor["family"] = facts.family;
  if (!facts.licenses.empty()) descriptor["licenses"] = facts.licenses;
  json config = json::object();
  if (!facts.architecture.empty()) config["architecture"] = facts.architecture;
  if (!facts.format.empty()) config["format"] = facts.format;
  if (!facts.param_size.empty()) config["paramSize"] = facts.param_size;
  if (!facts.precision.empty()) config["precision"] = facts.precision;
  const json config_blob = {{"descriptor", descriptor},
                            {"config", config},
                            {"modelfs", {{"type", "layers"}, {"diffIds", diff_ids}}}};
  const std::string config_bytes = config_blob.dump();
  const std::string config_hex = crypto::sha256_hex(as_bytes(config_bytes));
  TRY(layout::write_text(blobs / config_hex, config_bytes));
  const json manifest = {
      {"schemaVersion", 2},
      {"mediaType", k_oci_manifest},
      {"artifactType", k_artifact_type},
      {"config",
       {{"mediaType", modelpack::k_config_type}, {"digest", "sha256:" + config_hex}, {"size", config_bytes.size()}}},
      {"layers", layers},
      {"annotations",
       {{"org.opencontainers.image.created", created},
        {"vnd.airlock.deployment", name},
        {"vnd.airlock.version", version}}}};
  const std::string bytes = manifest.dump();
  const std::string hex = crypto::sha256_hex(as_bytes(bytes));
  TRY(layout::write_text(blobs / hex, bytes));
  const json manifests = json::array({{{"mediaType", k_oci_manifest},
                                        {"artifactType", k_artifact_type},
                                        {"digest", "sha256:" + hex},
                                        {"size", bytes.size()},
                                        {"annotations", {{k_ref_annotation, "model"}}}}});
  TRY(layout::write_text(dir / "index.json", oci::index_file_text(manifests)));
  TRY(layout::write_text(dir / "oci-layout", oci::layout_file_text()));
  return Push{"model",
              fmt::format("{} {} model/", name, version),
              dir,
              "model",
              fmt::format("{}/airlock/{}/model:{}", reg.base, name, tag),
              "sha256:" + hex};
}

// skopeo's last `msg="..."` (else its last line), unescaped, without URL
// query strings (upload session state), at most ~600 characters.
std::string skopeo_message(const std::string& output) {
  std::string_view out = text::trim(output);
  std::string_view line = out.substr(out.rfind('\n') == std::string_view::npos ? 0 : out.rfind('\n') + 1);
  std::string msg;
  if (std::size_t at = line.find("msg=\""); at != std::string_view::npos) {
    for (std::size_t i = at + 5; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        ++i;
      }
      msg += line[i];
    }
  } else {
    msg = std::string(line);
  }
  std::string clean;
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '?' && clean.find("://") != std::string::npos) {
      while (i + 1 < msg.size() && msg[i + 1] != '"' && msg[i + 1] != ' ') {
        ++i;
      }
      continue;
    }
    clean += msg[i];
  }
  if (clean.size() > 600) {
    clean = "..." + clean.substr(clean.size() - 600);
  }
  return clean.empty() ? "(no output)" : clean;
}

std::unexpected<Error> skopeo_missing() {
  return make_error(ErrorCode::kNotFound,
                    "skopeo is not installed (publish pushes through it): apt-get install skopeo");
}

// Pushes one thing; returns the manifest digest skopeo wrote.
Result<std::string> skopeo_copy(os::ProcessRunner& runner, const Push& p, const Registry& reg, const std::string& authfile,
                                const stdfs::path& digest_file, const std::string& deployment) {
  std::vector<std::string> argv = {
      "skopeo", "copy", "--quiet", "--preserve-digests", "--digestfile", digest_file.string()};
  if (reg.insecure) {
    argv.push_back("--dest-tls-verify=false");
  }
  if (!authfile.empty()) {
    argv.push_back("--dest-authfile");
    argv.push_back(authfile);
  }
  argv.push_back(fmt::format("oci:{}:{}", p.layout.string(), p.layout_ref));
  argv.push_back("docker://" + p.destination);
  os::ProcessOptions options;
  options.capture_output = true;
  auto run = runner.run(argv, options);
  if (!run && run.error().code() == ErrorCode::kNotFound) {
    return skopeo_missing();
  }
  TRY(run);
  if (!run->ok()) {
    const std::string msg = skopeo_message(run->output);
    if (msg.find("did not match") != std::string::npos || msg.find("does not match") != std::string::npos) {
      return make_error(ErrorCode::kCorruption,
                        "{} {}: installed bytes do not match their digest (skopeo, pushing to {}: {}); run "
                        "'airlock-installer check {}'",
                        p.kind, p.source, p.destination, msg, deployment);
    }
    return make_error(ErrorCode::kIOError, "{} {}: pushing to {} failed (skopeo {}): {}", p.kind, p.source,
                      p.destination, run->describe(), msg);
  }
  ASSIGN_OR_RETURN(std::string digest, fs::read_text_file(digest_file, 1024));
  return std::string(text::trim(digest));
}

Status push_all(os::ProcessRunner& runner, const std::vector<Push>& pushes, const Registry& reg, const PublishOptions& o,
                const stdfs::path& tmp, const std::function<void(const std::string&)>& note) {
  for (std::size_t i = 0; i < pushes.size(); ++i) {
    // Ctrl-C: the runner stops a push under way (skopeo runs in its own
    // process group); this catches one that came between pushes.
    TRY(check_interrupt());
    const Push& p = pushes[i];
    if (note) {
      note(fmt::format("[{}/{}] pushing {} {} to {}", i + 1, pushes.size(), p.kind, p.source, p.destination));
    }
    ASSIGN_OR_RETURN(std::string got, skopeo_copy(runner, p, reg, o.authfile, tmp / fmt::format("digest-{}", i), o.name));
    if (got != p.digest) {
      return make_error(ErrorCode::kCorruption,
                        "{} {}: {} now holds digest {}, not {} as installed; do not pull it by that tag", p.kind,
                        p.source, p.destination, got, p.digest);
    }
  }
  return ok_status();
}

}  // namespace

Result<Published> publish(Site& site, const PublishOptions& o, const std::function<void(const std::string&)>& note) {
  ASSIGN_OR_RETURN(const Registry reg, parse_registry(o.registry, o.insecure));
  ASSIGN_OR_RETURN(const std::string version, pick_version(site, o.name, o.version));
  const std::string target = o.name + "/" + version;
  const stdfs::path vdir = site.version_dir(o.name, version);
  std::vector<Push> pushes;
  Status st = [&]() -> Status {
    if (vdir.string().find(':') != std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument, "{}: skopeo cannot read an OCI layout under a path with ':' in it",
                        vdir.string());
    }
    if (!os::program_on_path("skopeo")) {
      return skopeo_missing();
    }
    ASSIGN_OR_RETURN(auto files, site.ledger().files(o.name, version));
    ASSIGN_OR_RETURN(pushes, plan_images(vdir, files, reg, o.name));
    ASSIGN_OR_RETURN(fs::TempDir tmp, fs::TempDir::create(site.staging_dir(), "publish-"));
    if (!o.no_model) {
      ASSIGN_OR_RETURN(auto model, stage_model(site, vdir, files, tmp.path() / "model", reg, o.name, version));
      if (model) {
        pushes.push_back(std::move(*model));
      }
    }
    if (pushes.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "{} {} has no images{} to publish", o.name, version,
                        o.no_model ? " (and --no-model was given)" : " and no model");
    }
    return push_all(site.processes(), pushes, reg, o, tmp.path(), note);
  }();
  if (!st) {
    (void)site.log("publish", target, "failed", fmt::format("registry {}: {}", reg.base, st.error().message()));
    return std::unexpected(std::move(st).error());
  }
  Published out{version, reg.base, {}};
  std::vector<std::string> detail;
  for (const Push& p : pushes) {
    detail.push_back(fmt::format("{}@{}", p.destination, p.digest));
    out.pushes.push_back({p.kind, p.source, p.destination, p.digest});
  }
  TRY(site.log("publish", target, "ok", fmt::format("registry {}: {}", reg.base, fmt::join(detail, ", "))));
  return out;
}

}  // namespace airlock::installer
