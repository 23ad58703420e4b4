// ROOT/images (an OCI image layout that is also a docker-archive) and
// install --load (see targets.h).
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/archive/tar.h"
#include "core/base/text.h"
#include "core/crypto/sha256.h"
#include "core/names/names.h"
#include "core/fs/file.h"
#include "core/oci/layout.h"
#include "core/oci/media_types.h"
#include "installer/targets/layout.h"
#include "core/os/process_runner.h"
#include "installer/targets/internal.h"

namespace airlock::installer::targets_internal {

using namespace layout;

namespace {

using oci::k_docker_manifest;
using oci::k_oci_manifest;

// "REG/repo:tag" -> true; "REG/repo@sha256:..." -> false.
bool is_tagged_ref(std::string_view ref) {
  if (ref.find('@') != std::string_view::npos) {
    return false;
  }
  const std::size_t slash = ref.rfind('/');
  return ref.find(':', slash == std::string_view::npos ? 0 : slash) != std::string_view::npos;
}

// "sha256:<64 hex>" -> the hex, or nothing.
std::optional<std::string> sha256_hex_of(const json& digest) {
  if (!digest.is_string()) {
    return std::nullopt;
  }
  const std::string d = digest.get<std::string>();
  if (!d.starts_with("sha256:") || !text::is_lower_hex(std::string_view(d).substr(7), 64)) {
    return std::nullopt;
  }
  return d.substr(7);
}

constexpr std::string_view k_ref_name = "org.opencontainers.image.ref.name";

// The shipped images/index.json is a file of the bundle, not decoded with
// the payload: each descriptor is type-checked here before anything reads
// it (an object, a sha256 digest, a string mediaType, annotations an object
// whose ref name is an image reference of core/names/names.h).
Status check_descriptors(const json& index, const std::string& where) {
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    return make_error(ErrorCode::kCorruption, "{}: not an OCI image index", where);
  }
  for (const json& d : index["manifests"]) {
    if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string() ||
        !format::names::is_sha256_digest(d["digest"].get_ref<const std::string&>()) ||
        (d.contains("mediaType") && !d["mediaType"].is_string())) {
      return make_error(ErrorCode::kCorruption, "{}: a manifest descriptor without a sha256 digest or mediaType",
                        where);
    }
    if (!d.contains("annotations")) {
      continue;
    }
    const json& a = d["annotations"];
    if (!a.is_object() || (a.contains(k_ref_name) && (!a[k_ref_name].is_string() ||
                                                       !format::names::is_image_ref(a[k_ref_name].get_ref<const std::string&>())))) {
      return make_error(ErrorCode::kCorruption, "{}: image {} has an annotation '{}' that is not an image reference",
                        where, d["digest"].get<std::string>(), k_ref_name);
    }
  }
  return ok_status();
}

// docker-archive's manifest.json entries ({Config, RepoTags, Layers}) for the
// image manifests among `manifests` (OCI index descriptors); every blob named
// must be in `blobs`.
Result<json> docker_load_entries(const json& manifests, const std::map<std::string, stdfs::path>& blobs) {
  json archive = json::array();
  for (const json& d : manifests) {
    const std::string mt = d.value("mediaType", "");
    if (mt != k_oci_manifest && mt != k_docker_manifest) {
      continue;
    }
    auto hex = sha256_hex_of(d.value("digest", json()));
    if (!hex || !blobs.contains(*hex)) {
      return make_error(ErrorCode::kCorruption, "image manifest {} is not among the installed blobs",
                        d.value("digest", json()).dump());
    }
    ASSIGN_OR_RETURN(std::string text, fs::read_text_file(blobs.at(*hex), k_max_index_bytes));
    json m = json::parse(text, nullptr, false);
    if (!m.is_object() || !m.contains("config") || !m["config"].is_object() || !m.contains("layers") ||
        !m["layers"].is_array()) {
      return make_error(ErrorCode::kCorruption, "image manifest {} is not an image manifest", *hex);
    }
    json entry = {{"Config", json()}, {"RepoTags", json::array()}, {"Layers", json::array()}};
    std::vector<json> parts = {m["config"]};
    parts.insert(parts.end(), m["layers"].begin(), m["layers"].end());
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto blob = parts[i].is_object() ? sha256_hex_of(parts[i].value("digest", json())) : std::nullopt;
      if (!blob || !blobs.contains(*blob)) {
        return make_error(ErrorCode::kCorruption, "image manifest {} names a blob that was not installed", *hex);
      }
      if (i == 0) {
        entry["Config"] = "blobs/sha256/" + *blob;
      } else {
        entry["Layers"].push_back("blobs/sha256/" + *blob);
      }
    }
    if (d.contains("annotations") && d["annotations"].contains(k_ref_name)) {  // checked by check_descriptors
      const std::string ref = d["annotations"][k_ref_name].get<std::string>();
      if (is_tagged_ref(ref)) {
        entry["RepoTags"].push_back(ref);
      }
    }
    archive.push_back(std::move(entry));
  }
  return archive;
}


// A docker-archive tar (manifest.json + the blobs it names) at `tar`, in
// the same tar subset as the volumes (core/archive/tar.h).
Status write_docker_archive(const stdfs::path& tar, const json& entries, const std::map<std::string, stdfs::path>& blobs) {
  TRY(remove_path(tar));  // left by an interrupted --load
  ASSIGN_OR_RETURN(fs::File out, fs::File::create_new(tar, 0644));
  archive::tar::Writer writer([&](ByteSpan data) { return out.write_all(data); });
  const std::string manifest = entries.dump();
  TRY(writer.add_entry("manifest.json", as_bytes(manifest)));
  std::set<std::string> written;
  Bytes buffer(1 << 20);
  for (const json& entry : entries) {
    std::vector<std::string> names = {entry["Config"].get<std::string>()};
    for (const json& l : entry["Layers"]) {
      names.push_back(l.get<std::string>());
    }
    for (const std::string& name : names) {
      if (!written.insert(name).second) {
        continue;
      }
      const stdfs::path& src = blobs.at(name.substr(13));  // "blobs/sha256/" + hex, checked when listed
      ASSIGN_OR_RETURN(fs::File file, fs::File::open_read(src));
      ASSIGN_OR_RETURN(const std::uint64_t size, file.size());
      TRY(writer.begin_entry(name, size));
      std::uint64_t left = size;
      while (left > 0) {
        ASSIGN_OR_RETURN(std::size_t n, file.read_some(buffer));
        if (n == 0) {
          return make_error(ErrorCode::kIOError, "{}: shorter than {} bytes", src.string(), size);
        }
        n = static_cast<std::size_t>(std::min<std::uint64_t>(n, left));
        TRY(writer.write(ByteSpan(buffer.data(), n)));
        left -= n;
      }
      TRY(writer.end_entry());
    }
  }
  TRY(writer.finish());
  return out.close();
}
Status sync_images(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum, bool apply) {
  Entries entries(site, "images");  // ImagesTarget::name()
  TRY(entries.load());
  const stdfs::path dir = entries.dir();
  // The ref -> digest mapping already linked, from the index Airlock wrote.
  std::map<std::string, std::string> linked;
  if (const TargetEntry* rec = entries.recorded("index.json")) {
    auto text = fs::read_text_file(dir / "index.json", k_max_index_bytes);
    if (text && crypto::sha256_hex(as_bytes(*text)) == rec->value) {
      json old = json::parse(*text, nullptr, false);
      if (old.is_object() && old.contains("manifests") && old["manifests"].is_array()) {
        for (const json& d : old["manifests"]) {
          if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) {
            continue;
          }
          std::string key = d["digest"].get<std::string>();
          if (d.contains("annotations") && d["annotations"].is_object() &&
              d["annotations"].contains("org.opencontainers.image.ref.name") &&
              d["annotations"]["org.opencontainers.image.ref.name"].is_string()) {
            key = d["annotations"]["org.opencontainers.image.ref.name"].get<std::string>();
          }
          linked[key] = d["digest"].get<std::string>();
        }
      }
    }
  }
  std::map<std::string, stdfs::path> blobs;
  std::vector<std::string> order;                                       // image keys, first seen first
  std::map<std::string, std::vector<std::pair<Claim, json>>> claims;    // key -> (digest, by), descriptor
  for (const Installed& v : installed) {
    if (!v.active) {
      continue;
    }
    const std::string by = v.name + "/" + v.version;
    bool has_images = false;
    std::map<std::string, stdfs::path> mine;
    std::string misnamed;
    for (const FileRecord& f : v.files) {
      if (f.path.starts_with("images/blobs/sha256/")) {
        const std::string hex = f.path.substr(20);
        if (hex != f.sha256) {
          misnamed = fmt::format("{} has signed SHA-256 {}", f.path, f.sha256);
        }
        mine.emplace(hex, v.dir / f.path);
      }
      has_images = has_images || f.path == "images/index.json";
    }
    if (!has_images) {
      continue;
    }
    if (!misnamed.empty()) {
      // A blob's name is its content: a file under another name would let
      // this version change what another's image loads.
      sum.notes.push_back(fmt::format("{}: {}, not the hash its name says; its images are not in ROOT/images", by,
                                      misnamed));
      continue;
    }
    // One version's unusable image index is left out with a note; the
    // other versions' images, and the other targets, are still built.
    const stdfs::path index_path = v.dir / "images/index.json";
    auto content = fs::read_text_file(index_path, k_max_index_bytes);
    const json index = content ? json::parse(*content, nullptr, false) : json();
    Status usable = content ? check_descriptors(index, index_path.string()) : Status(std::unexpected(content.error()));
    if (usable) {
      for (const json& d : index["manifests"]) {
        if (!mine.contains(d["digest"].get<std::string>().substr(7))) {
          usable = make_error(ErrorCode::kCorruption, "{}: image {} names a blob that was not installed",
                              index_path.string(), d["digest"].get<std::string>());
          break;
        }
      }
    }
    if (usable) {
      if (auto archive = docker_load_entries(index["manifests"], mine); !archive) {
        usable = std::unexpected(archive.error());
      }
    }
    if (!usable) {
      sum.notes.push_back(fmt::format("{}: its images are left out of ROOT/images: {}", by, usable.error().message()));
      continue;
    }
    for (const json& d : index["manifests"]) {  // checked by check_descriptors
      const std::string digest = d["digest"].get<std::string>();
      std::string key = digest;
      if (d.contains("annotations") && d["annotations"].contains(k_ref_name)) {
        key = d["annotations"][k_ref_name].get<std::string>();
      }
      if (!claims.contains(key)) {
        order.push_back(key);
      }
      claims[key].push_back({Claim{digest, by}, d});
    }
    blobs.insert(mine.begin(), mine.end());
  }
  json manifests = json::array();
  for (const std::string& key : order) {
    const auto& cs = claims.at(key);
    std::vector<Claim> plain;
    for (const auto& c : cs) {
      plain.push_back(c.first);
    }
    TargetEntry rec;
    const TargetEntry* recp = nullptr;
    if (auto it = linked.find(key); it != linked.end()) {
      rec.value = it->second;
      recp = &rec;
    }
    const std::size_t win = pick_claim(plain, recp, fmt::format("{} (image {})", (dir / "index.json").string(), key),
                                       sum);
    manifests.push_back(cs[win].second);
  }
  if (!apply) {
    return ok_status();
  }
  std::string layout, index_text, archive_text;
  if (!manifests.empty()) {
    // docker-archive's manifest.json beside the OCI layout: docker load and
    // podman load read it; skopeo reads either.
    ASSIGN_OR_RETURN(json archive, docker_load_entries(manifests, blobs));
    layout = oci::layout_file_text();
    index_text = oci::index_file_text(manifests);
    archive_text = archive.dump();
    for (const auto& [hex, src] : blobs) {
      entries.want("blobs/sha256/" + hex, "file", hex);
    }
    entries.want("oci-layout", "file", crypto::sha256_hex(as_bytes(layout)));
    entries.want("index.json", "file", crypto::sha256_hex(as_bytes(index_text)));
    entries.want("manifest.json", "file", crypto::sha256_hex(as_bytes(archive_text)));
  }
  TRY(entries.begin());
  if (!manifests.empty()) {
    TRY(make_dirs(dir / "blobs" / "sha256"));
    for (const auto& [hex, src] : blobs) {
      TRY(link_file(src, dir / "blobs" / "sha256" / hex));
    }
    TRY(write_text(dir / "oci-layout", layout));
    TRY(write_text(dir / "index.json", index_text));
    TRY(write_text(dir / "manifest.json", archive_text));
  }
  TRY(entries.finish(sum));
  sum.images = manifests.size();
  if (manifests.empty()) {
    return ok_status();
  }
  return fs::fsync_dir(dir);
}

class ImagesTarget final : public Target {
 public:
  std::string_view name() const override { return "images"; }
  Status sync(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum, bool apply) const override {
    return sync_images(site, installed, sum, apply);
  }
};

}  // namespace

const Target& images_target() {
  static const ImagesTarget target;
  return target;
}

}  // namespace airlock::installer::targets_internal

namespace airlock::installer {

using namespace targets_internal;

Status check_image_index(const stdfs::path& index_json) {
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(index_json, k_max_index_bytes));
  return check_descriptors(json::parse(text, nullptr, false), index_json.string());
}

Status load_images(Site& site, const std::string& name, const std::string& version, const std::string& runtime,
                   const std::function<void(const std::string&)>& say) {
  const stdfs::path dir = site.version_dir(name, version);
  std::map<std::string, stdfs::path> blobs;
  bool has_index = false;
  ASSIGN_OR_RETURN(auto files, site.ledger().files(name, version));
  for (const FileRecord& f : files) {
    if (f.path.starts_with("images/blobs/sha256/")) {
      blobs.emplace(f.path.substr(20), dir / f.path);
    }
    has_index = has_index || f.path == "images/index.json";
  }
  if (!has_index) {
    say(fmt::format("--load {}: {} {} ships no images; nothing to load", runtime, name, version));
    return ok_status();
  }
  if (!os::program_on_path(runtime)) {
    return make_error(ErrorCode::kNotFound, "--load {}: {} is not installed on this machine", runtime, runtime);
  }
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(dir / "images/index.json", k_max_index_bytes));
  json index = json::parse(text, nullptr, false);
  TRY(check_descriptors(index, (dir / "images/index.json").string()));
  ASSIGN_OR_RETURN(json entries, docker_load_entries(index["manifests"], blobs));
  TRY(make_dirs(site.staging_dir()));
  const stdfs::path tar = site.staging_dir() / fmt::format("load-{}-{}.tar", name, version);
  Status st = write_docker_archive(tar, entries, blobs);
  if (st) {
    say(fmt::format("--load {}: {} load -i {} ({} image(s))", runtime, runtime, tar.string(), entries.size()));
    os::ProcessOptions po;
    po.capture_output = true;
    auto r = site.processes().run({runtime, "load", "-i", tar.string()}, po);
    if (!r) {
      st = std::unexpected(r.error());
    } else if (!r->ok()) {
      st = make_error(ErrorCode::kIOError, "--load {}: '{} load' failed with {}: {}", runtime, runtime, r->describe(),
                      text::trim(r->output));
    } else {
      for (const json& e : entries) {
        for (const json& tag : e["RepoTags"]) {
          say(fmt::format("--load {}: loaded {}", runtime, tag.get<std::string>()));
        }
      }
    }
  }
  (void)remove_path(tar);
  return st;
}

}  // namespace airlock::installer
