#include "installer/targets.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/base/text.h"
#include "core/crypto/sha256.h"
#include "core/fs/file.h"
#include "installer/crash_point.h"
#include "installer/process.h"

namespace airlock::installer {

namespace {

using nlohmann::json;

constexpr std::uint64_t k_max_index_bytes = 64 << 20;

ByteSpan as_span(std::string_view s) { return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

stdfs::path dirty_marker(const Site& site) { return site.root() / "targets.dirty"; }

Status make_dirs(const stdfs::path& dir) {
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: cannot create: {}", dir.string(), ec.message());
  }
  return ok_status();
}

Status remove_path(const stdfs::path& p) {
  std::error_code ec;
  auto st = stdfs::symlink_status(p, ec);
  if (ec || !stdfs::exists(st)) {
    return ok_status();
  }
  if (stdfs::is_directory(st)) {
    return fs::remove_tree(p);
  }
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
    return make_error(ErrorCode::kIOError, "{}: cannot remove: {}", p.string(), fs::errno_text(errno));
  }
  return ok_status();
}

// dst becomes a hardlink to src (a copy across file systems), atomically.
Status link_file(const stdfs::path& src, const stdfs::path& dst) {
  struct stat a {}, b {};
  if (::stat(src.c_str(), &a) != 0) {
    return make_error(ErrorCode::kNotFound, "{}: {} (run 'airlock-installer check')", src.string(),
                      fs::errno_text(errno));
  }
  if (::lstat(dst.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
    return ok_status();
  }
  stdfs::path tmp = dst;
  tmp += ".tmp-link";
  (void)::unlink(tmp.c_str());
  if (::link(src.c_str(), tmp.c_str()) != 0) {
    if (errno != EXDEV && errno != EPERM) {
      return make_error(ErrorCode::kIOError, "{}: cannot hardlink from {}: {}", dst.string(), src.string(),
                        fs::errno_text(errno));
    }
    std::error_code ec;
    stdfs::copy_file(src, tmp, stdfs::copy_options::overwrite_existing, ec);
    if (ec) {
      return make_error(ErrorCode::kIOError, "{}: cannot copy from {}: {}", dst.string(), src.string(), ec.message());
    }
    ::chmod(tmp.c_str(), 0444);
  }
  if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    const int err = errno;
    (void)::unlink(tmp.c_str());
    return make_error(ErrorCode::kIOError, "{}: cannot rename into place: {}", dst.string(), fs::errno_text(err));
  }
  return ok_status();
}

Status write_text(const stdfs::path& path, std::string_view text) {
  auto old = fs::read_text_file(path, k_max_index_bytes);
  if (old && *old == text) {
    return ok_status();  // unchanged: keep the mtime tools may cache on
  }
  return fs::write_file_atomic(path, as_span(text), 0644);
}

// Removes every entry of dir whose name is not in keep (and not a dot-file
// of huggingface_hub's own, like .no_exist or .locks).
Status prune_dir(const stdfs::path& dir, const std::set<std::string>& keep) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) {
    return ok_status();
  }
  std::vector<stdfs::path> doomed;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!keep.contains(name) && !(name.starts_with(".") && !name.starts_with(".tmp-"))) {
      doomed.push_back(e.path());
    }
  }
  for (const stdfs::path& p : doomed) {
    TRY(remove_path(p));
  }
  return ok_status();
}

// One installed version as the targets see it.
struct Installed {
  std::string name;
  std::string version;
  bool active = false;
  stdfs::path dir;
  json sources;  // array, or null before schema 2 / issue 5
  std::vector<FileRecord> files;
};

const json* find_source(const json& sources, std::string_view kind) {
  if (!sources.is_array()) {
    return nullptr;
  }
  for (const json& s : sources) {
    if (s.is_object() && s.value("kind", "") == kind) {
      return &s;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------- HF cache

struct HfFile {
  std::string rel;   // path inside the snapshot
  std::string blob;  // blob name
  stdfs::path src;   // installed copy
};

struct HfRepo {
  std::string repo;
  std::map<std::string, stdfs::path> blobs;
  std::map<std::string, std::vector<HfFile>> snapshots;  // commit -> files
  std::map<std::string, std::string> refs;               // revision -> commit
  std::string owner;                                     // deployment that set refs
};

bool valid_repo_part(std::string_view s) {
  if (s.empty() || s.size() > 96 || s == "." || s == ".." || s.find("--") != std::string_view::npos) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) { return text::is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool valid_repo(std::string_view repo) {
  const std::size_t slash = repo.find('/');
  if (slash == std::string_view::npos) {
    return valid_repo_part(repo);
  }
  return valid_repo_part(repo.substr(0, slash)) && valid_repo_part(repo.substr(slash + 1));
}

bool valid_revision(std::string_view rev) {
  if (rev.empty() || rev.size() > 200 || rev.front() == '/' || rev.back() == '/') {
    return false;
  }
  for (char c : rev) {
    if (!(text::is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '/')) {
      return false;
    }
  }
  return rev.find("..") == std::string_view::npos && rev.find("//") == std::string_view::npos;
}

std::string repo_folder(const std::string& repo) {
  std::string out = "models--";
  for (char c : repo) {
    if (c == '/') {
      out += "--";
    } else {
      out += c;
    }
  }
  return out;
}

// The model of one version in HF terms, or nothing when it shipped none.
struct HfModel {
  std::string repo;
  std::string commit;
  std::string revision;
  std::vector<HfFile> files;
};

Result<std::optional<HfModel>> hf_model_of(const Installed& v, std::vector<std::string>& notes) {
  HfModel m;
  const json* src = find_source(v.sources, "model");
  if (src != nullptr && src->contains("identity") && (*src)["identity"].contains("repo")) {
    const json& id = (*src)["identity"];
    m.repo = id.value("repo", "");
    m.commit = id.value("commit", "");
    m.revision = id.value("revision", "main");
    if (!valid_repo(m.repo) || m.commit.size() != 40 || !text::is_lower_hex(m.commit)) {
      notes.push_back(fmt::format("{}/{}: model identity '{}' @ '{}' is not a Hugging Face repo and commit; not in "
                                  "ROOT/hf",
                                  v.name, v.version, m.repo, m.commit));
      return std::optional<HfModel>();
    }
    std::set<std::string> installed;  // the ledger's paths, checked when the payload was decoded
    for (const FileRecord& r : v.files) {
      installed.insert(r.path);
    }
    for (const json& f : src->value("files", json::array())) {
      const std::string path = f.value("path", "");
      if (!path.starts_with("model/")) {
        continue;
      }
      if (!installed.contains(path)) {
        return make_error(ErrorCode::kCorruption, "{}/{}: the model source lists '{}', which was not installed",
                          v.name, v.version, path);
      }
      const json extra = f.value("extra", json::object());
      const bool lfs = extra.value("lfs", false);
      std::string blob = lfs ? f.value("sha256", "") : extra.value("blob", "");
      const std::size_t want = lfs ? 64 : 40;
      if (blob.size() != want || !text::is_lower_hex(blob)) {
        return make_error(ErrorCode::kCorruption, "{}/{}: {} has no valid blob id ('{}')", v.name, v.version, path,
                          blob);
      }
      m.files.push_back(HfFile{path.substr(6), std::move(blob), v.dir / path});
    }
  } else {
    // A local directory (or a bundle older than `sources`): a synthetic repo.
    m.repo = "airlock/" + v.name;
    m.revision = "main";
    std::vector<std::pair<std::string, std::string>> listed;
    for (const FileRecord& f : v.files) {
      if (f.path.starts_with("model/")) {
        listed.emplace_back(f.path.substr(6), f.sha256);
        m.files.push_back(HfFile{f.path.substr(6), f.sha256, v.dir / f.path});
      }
    }
    m.commit = local_model_commit(listed);
  }
  if (m.files.empty()) {
    return std::optional<HfModel>();
  }
  return std::optional<HfModel>(std::move(m));
}

// "../../blobs/<blob>" with one more ".." per directory of rel.
std::string blob_link(const std::string& rel, const std::string& blob) {
  std::string up = "../../";
  for (char c : rel) {
    if (c == '/') {
      up += "../";
    }
  }
  return up + "blobs/" + blob;
}

bool snapshot_matches(const stdfs::path& dir, const std::vector<HfFile>& files) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) {
    return false;
  }
  std::size_t links = 0;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); it != stdfs::recursive_directory_iterator(); ++it) {
    if (!it->is_directory()) {
      ++links;
    }
  }
  if (links != files.size()) {
    return false;
  }
  for (const HfFile& f : files) {
    auto target = stdfs::read_symlink(dir / f.rel, ec);
    if (ec || target.string() != blob_link(f.rel, f.blob)) {
      return false;
    }
  }
  return true;
}

Status write_snapshot(const stdfs::path& snapshots, const std::string& commit, const std::vector<HfFile>& files) {
  const stdfs::path final_dir = snapshots / commit;
  if (snapshot_matches(final_dir, files)) {
    return ok_status();
  }
  const stdfs::path tmp = snapshots / (".tmp-" + commit);
  TRY(remove_path(tmp));
  for (const HfFile& f : files) {
    const stdfs::path link = tmp / f.rel;
    TRY(make_dirs(link.parent_path()));
    if (::symlink(blob_link(f.rel, f.blob).c_str(), link.c_str()) != 0) {
      return make_error(ErrorCode::kIOError, "{}: cannot create symlink: {}", link.string(), fs::errno_text(errno));
    }
  }
  TRY(remove_path(final_dir));
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    return make_error(ErrorCode::kIOError, "{}: cannot rename into place: {}", final_dir.string(),
                      fs::errno_text(errno));
  }
  return fs::fsync_dir(snapshots);
}

// Every file under dir (relative names), for pruning refs/.
std::vector<std::string> files_below(const stdfs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) {
    return out;
  }
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); it != stdfs::recursive_directory_iterator(); ++it) {
    if (!it->is_directory()) {
      out.push_back(it->path().lexically_relative(dir).generic_string());
    }
  }
  return out;
}

Status sync_hf(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum) {
  std::map<std::string, HfRepo> repos;  // by folder name
  for (const Installed& v : installed) {
    ASSIGN_OR_RETURN(std::optional<HfModel> m, hf_model_of(v, sum.notes));
    if (!m) {
      continue;
    }
    HfRepo& r = repos[repo_folder(m->repo)];
    r.repo = m->repo;
    for (const HfFile& f : m->files) {
      r.blobs.emplace(f.blob, f.src);
    }
    r.snapshots[m->commit] = m->files;
    if (v.active) {
      if (!r.owner.empty() && r.owner != v.name) {
        sum.notes.push_back(fmt::format("ROOT/hf: {} and {} both ship {}; refs follow {}", r.owner, v.name, m->repo,
                                        v.name));
      }
      r.owner = v.name;
      r.refs.clear();
      r.refs["main"] = m->commit;
      if (m->revision != "main" && m->revision != m->commit) {
        if (valid_revision(m->revision)) {
          r.refs[m->revision] = m->commit;
        } else {
          sum.notes.push_back(fmt::format("{}/{}: revision '{}' cannot be a ref file; only refs/main is written",
                                          v.name, v.version, m->revision));
        }
      }
    }
  }
  const stdfs::path hf = site.root() / "hf";
  if (repos.empty()) {
    return remove_path(hf);
  }
  std::set<std::string> keep_repos;
  for (const auto& [folder, r] : repos) {
    keep_repos.insert(folder);
    const stdfs::path dir = hf / folder;
    TRY(make_dirs(dir / "blobs"));
    TRY(make_dirs(dir / "snapshots"));
    TRY(make_dirs(dir / "refs"));
    for (const auto& [blob, src] : r.blobs) {
      TRY(link_file(src, dir / "blobs" / blob));
    }
    std::set<std::string> keep_snapshots;
    for (const auto& [commit, files] : r.snapshots) {
      TRY(write_snapshot(dir / "snapshots", commit, files));
      keep_snapshots.insert(commit);
      ++sum.snapshots;
    }
    for (const auto& [rev, commit] : r.refs) {
      TRY(make_dirs((dir / "refs" / rev).parent_path()));
      TRY(write_text(dir / "refs" / rev, commit));  // no newline, as huggingface_hub writes it
    }
    for (const std::string& f : files_below(dir / "refs")) {
      if (!r.refs.contains(f)) {
        TRY(remove_path(dir / "refs" / f));
      }
    }
    TRY(prune_dir(dir / "snapshots", keep_snapshots));
    std::set<std::string> keep_blobs;
    for (const auto& [blob, src] : r.blobs) {
      keep_blobs.insert(blob);
    }
    TRY(prune_dir(dir / "blobs", keep_blobs));
    if (auto main = r.refs.find("main"); main != r.refs.end()) {
      sum.models.push_back(fmt::format("{}@{}", r.repo, main->second));
    }
  }
  // Only our own folders: models--*; anything else an operator put there stays.
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(hf, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("models--") && !keep_repos.contains(name)) {
      TRY(remove_path(e.path()));
    }
  }
  return fs::fsync_dir(hf);
}

// ------------------------------------------------------------- OCI images

constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view k_docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";

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

// docker-archive's manifest.json entries ({Config, RepoTags, Layers}) for the
// image manifests among `manifests` (OCI index descriptors); every blob named
// must be in `blobs`.
Result<json> docker_archive_entries(const json& manifests, const std::map<std::string, stdfs::path>& blobs) {
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
    if (d.contains("annotations") && d["annotations"].contains("org.opencontainers.image.ref.name")) {
      const std::string ref = d["annotations"]["org.opencontainers.image.ref.name"].get<std::string>();
      if (is_tagged_ref(ref)) {
        entry["RepoTags"].push_back(ref);
      }
    }
    archive.push_back(std::move(entry));
  }
  return archive;
}

Status sync_images(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum) {
  std::map<std::string, stdfs::path> blobs;
  json manifests = json::array();
  std::set<std::string> seen;  // ref name (or digest) already listed
  for (const Installed& v : installed) {
    if (!v.active) {
      continue;
    }
    bool has_images = false;
    for (const FileRecord& f : v.files) {
      if (f.path.starts_with("images/blobs/sha256/")) {
        blobs.emplace(f.path.substr(20), v.dir / f.path);
      }
      has_images = has_images || f.path == "images/index.json";
    }
    if (!has_images) {
      continue;
    }
    ASSIGN_OR_RETURN(std::string text, fs::read_text_file(v.dir / "images/index.json", k_max_index_bytes));
    json index = json::parse(text, nullptr, false);
    if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
      return make_error(ErrorCode::kCorruption, "{}: not an OCI image index", (v.dir / "images/index.json").string());
    }
    for (const json& d : index["manifests"]) {
      const std::string digest = d.value("digest", "");
      std::string key = digest;
      if (d.contains("annotations") && d["annotations"].contains("org.opencontainers.image.ref.name")) {
        key = d["annotations"]["org.opencontainers.image.ref.name"].get<std::string>();
      }
      if (!digest.starts_with("sha256:") || !blobs.contains(digest.substr(7))) {
        return make_error(ErrorCode::kCorruption, "{}: image '{}' names a blob that was not installed ({})",
                          (v.dir / "images/index.json").string(), key, digest);
      }
      if (seen.insert(key).second) {
        manifests.push_back(d);
      } else {
        sum.notes.push_back(fmt::format("ROOT/images: {} is shipped by more than one active deployment; the first "
                                        "listed wins",
                                        key));
      }
    }
  }
  const stdfs::path dir = site.root() / "images";
  if (manifests.empty()) {
    return remove_path(dir);
  }
  TRY(make_dirs(dir / "blobs" / "sha256"));
  for (const auto& [hex, src] : blobs) {
    TRY(link_file(src, dir / "blobs" / "sha256" / hex));
  }
  // docker-archive's manifest.json beside the OCI layout: docker load and
  // podman load read it; skopeo reads either.
  ASSIGN_OR_RETURN(json archive, docker_archive_entries(manifests, blobs));
  json index = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}, {"manifests", manifests}};
  TRY(write_text(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  TRY(write_text(dir / "index.json", index.dump()));
  TRY(write_text(dir / "manifest.json", archive.dump()));
  std::set<std::string> keep;
  for (const auto& [hex, src] : blobs) {
    keep.insert(hex);
  }
  TRY(prune_dir(dir / "blobs" / "sha256", keep));
  TRY(prune_dir(dir, {"oci-layout", "index.json", "manifest.json", "blobs"}));
  sum.images = manifests.size();
  return fs::fsync_dir(dir);
}

// --------------------------------------------------------------------- apt

// The stanza as shipped, without the fields that describe where the file
// was (they are rewritten for this repository).
std::string rewrite_stanza(std::string_view control, const std::string& file, std::uint64_t size,
                           const std::string& sha256) {
  static const std::set<std::string, std::less<>> k_drop = {"filename", "size", "md5sum", "sha1", "sha256", "sha512"};
  std::string out;
  bool dropping = false;
  std::size_t pos = 0;
  while (pos < control.size()) {
    std::size_t end = control.find('\n', pos);
    if (end == std::string_view::npos) {
      end = control.size();
    }
    std::string_view line = control.substr(pos, end - pos);
    pos = end + 1;
    if (text::trim(line).empty()) {
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (!dropping) {
        out.append(line).push_back('\n');
      }
      continue;
    }
    const std::size_t colon = line.find(':');
    dropping = colon != std::string_view::npos && k_drop.contains(text::lower(text::trim(line.substr(0, colon))));
    if (!dropping) {
      out.append(line).push_back('\n');
    }
  }
  out += fmt::format("Filename: ./{}\nSize: {}\nSHA256: {}\n", file, size, sha256);
  return out;
}

Result<std::string> gzip_bytes(std::string_view data, const std::string& name) {
  std::string out;
  struct archive* a = archive_write_new();
  auto cleanup = [&] { archive_write_free(a); };
  auto fail = [&](std::string_view what) {
    std::string msg = archive_error_string(a) ? archive_error_string(a) : "unknown error";
    cleanup();
    return make_error(ErrorCode::kIOError, "compressing {}: {}: {}", name, what, msg);
  };
  if (archive_write_add_filter_gzip(a) != ARCHIVE_OK || archive_write_set_format_raw(a) != ARCHIVE_OK) {
    return fail("libarchive setup");
  }
  archive_write_set_bytes_in_last_block(a, 1);
  auto writer = [](struct archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  if (archive_write_open(a, &out, nullptr, writer, nullptr) != ARCHIVE_OK) {
    return fail("open");
  }
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  const bool ok = archive_write_header(a, e) == ARCHIVE_OK &&
                  (data.empty() || archive_write_data(a, data.data(), data.size()) == static_cast<la_ssize_t>(data.size())) &&
                  archive_write_close(a) == ARCHIVE_OK;
  archive_entry_free(e);
  if (!ok) {
    return fail("write");
  }
  cleanup();
  return out;
}

std::string rfc2822_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S UTC", &tm);
  return buf;
}

// Signs Release with the GnuPG home ROOT/keys/apt, when there is one.
Result<bool> sign_release(const Site& site, const stdfs::path& dir) {
  const stdfs::path home = site.keys_dir() / "apt";
  std::error_code ec;
  if (!stdfs::is_directory(home, ec)) {
    TRY(remove_path(dir / "InRelease"));
    TRY(remove_path(dir / "Release.gpg"));
    return false;
  }
  if (!program_on_path("gpg")) {
    return make_error(ErrorCode::kNotFound, "{} is configured for signing ROOT/apt, but gpg is not installed "
                      "(apt-get install gpg)", home.string());
  }
  for (auto [flag, out] : {std::pair{"--clearsign", "InRelease"}, std::pair{"--detach-sign", "Release.gpg"}}) {
    const stdfs::path tmp = dir / (std::string(".tmp-") + out);
    std::vector<std::string> argv = {"gpg",   "--homedir", home.string(), "--batch", "--yes", "--pinentry-mode",
                                     "loopback", "--passphrase", "", "--digest-algo", "SHA256", flag, "-o",
                                     tmp.string(), (dir / "Release").string()};
    ProcessOptions po;
    po.capture_output = true;
    po.timeout = std::chrono::seconds(60);
    ASSIGN_OR_RETURN(ProcessResult r, run_process(argv, po));
    if (!r.ok()) {
      (void)remove_path(tmp);
      return make_error(ErrorCode::kIOError, "signing ROOT/apt/{} with the key in {}: gpg {}: {}", out, home.string(),
                        r.describe(), text::trim(r.output));
    }
    if (::rename(tmp.c_str(), (dir / out).c_str()) != 0) {
      return make_error(ErrorCode::kIOError, "{}: cannot rename into place: {}", (dir / out).string(),
                        fs::errno_text(errno));
    }
  }
  return true;
}

Status sync_apt(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum) {
  struct Deb {
    stdfs::path src;
    std::string stanza;
    std::string sha256;
  };
  std::map<std::string, Deb> debs;  // by file name
  std::set<std::string> archs;
  for (const Installed& v : installed) {
    if (!v.active) {
      continue;
    }
    std::map<std::string, const json*> shipped;
    if (v.sources.is_array()) {
      for (const json& s : v.sources) {
        if (s.value("kind", "") != "deb" || !s.contains("files") || !s["files"].is_array()) {
          continue;
        }
        for (const json& f : s["files"]) {  // pointers into v.sources, which outlives the map
          shipped[f.value("path", "")] = &f;
        }
      }
    }
    std::size_t unlisted = 0;
    for (const FileRecord& f : v.files) {
      if (!f.path.starts_with("debs/") || !f.path.ends_with(".deb") || f.path.find('/', 5) != std::string::npos) {
        continue;
      }
      auto it = shipped.find(f.path);
      const json* jf = it == shipped.end() ? nullptr : it->second;
      if (jf == nullptr || !jf->contains("extra") || !(*jf)["extra"].contains("control")) {
        ++unlisted;
        continue;
      }
      const std::string file = f.path.substr(5);
      if (auto have = debs.find(file); have != debs.end()) {
        if (have->second.sha256 != f.sha256) {
          sum.notes.push_back(fmt::format("ROOT/apt: {} differs between active deployments; the first is kept", file));
        }
        continue;
      }
      const std::string control = (*jf)["extra"]["control"].get<std::string>();
      debs[file] = Deb{v.dir / f.path, rewrite_stanza(control, file, f.size, f.sha256), f.sha256};
      archs.insert((*jf)["extra"].value("architecture", "all"));
    }
    if (unlisted > 0) {
      sum.notes.push_back(fmt::format("{}/{}: {} .deb files carry no control data (bundle made before issue 5, or "
                                      "installed before ledger schema 2); re-install its bundle to list them in "
                                      "ROOT/apt",
                                      v.name, v.version, unlisted));
    }
  }
  const stdfs::path dir = site.root() / "apt";
  if (debs.empty()) {
    return remove_path(dir);
  }
  TRY(make_dirs(dir));
  std::string packages;
  for (const auto& [file, d] : debs) {
    TRY(link_file(d.src, dir / file));
    if (!packages.empty()) {
      packages += "\n";
    }
    packages += d.stanza;
  }
  ASSIGN_OR_RETURN(std::string packages_gz, gzip_bytes(packages, "Packages"));
  std::string release = fmt::format(
      "Origin: Airlock\nLabel: Airlock\nDate: {}\nArchitectures: {}\n"
      "Description: the .debs of the active Airlock deployments\nSHA256:\n {} {} Packages\n {} {} Packages.gz\n",
      rfc2822_now(), fmt::join(archs, " "), crypto::sha256_hex(as_span(packages)), packages.size(),
      crypto::sha256_hex(as_span(packages_gz)), packages_gz.size());
  TRY(write_text(dir / "Packages", packages));
  TRY(fs::write_file_atomic(dir / "Packages.gz", as_span(packages_gz), 0644));
  TRY(fs::write_file_atomic(dir / "Release", as_span(release), 0644));
  ASSIGN_OR_RETURN(sum.apt_signed, sign_release(site, dir));
  std::set<std::string> keep = {"Packages", "Packages.gz", "Release", "InRelease", "Release.gpg"};
  for (const auto& [file, d] : debs) {
    keep.insert(file);
  }
  TRY(prune_dir(dir, keep));
  sum.debs = debs.size();
  return fs::fsync_dir(dir);
}

// ------------------------------------------------------------------ wheels

Status sync_wheels(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum) {
  std::map<std::string, std::pair<stdfs::path, std::string>> wheels;  // name -> (src, sha256)
  for (const Installed& v : installed) {
    if (!v.active) {
      continue;
    }
    for (const FileRecord& f : v.files) {
      if (!f.path.starts_with("wheels/") || f.path.find('/', 7) != std::string::npos) {
        continue;
      }
      const std::string file = f.path.substr(7);
      auto [it, fresh] = wheels.emplace(file, std::pair{v.dir / f.path, f.sha256});
      if (!fresh && it->second.second != f.sha256) {
        sum.notes.push_back(fmt::format("ROOT/wheels: {} differs between active deployments; the first is kept", file));
      }
    }
  }
  const stdfs::path dir = site.root() / "wheels";
  if (wheels.empty()) {
    return remove_path(dir);
  }
  TRY(make_dirs(dir));
  std::set<std::string> keep;
  for (const auto& [file, w] : wheels) {
    TRY(link_file(w.first, dir / file));
    keep.insert(file);
  }
  TRY(prune_dir(dir, keep));
  sum.wheels = wheels.size();
  return fs::fsync_dir(dir);
}

// A docker-archive tar (manifest.json + the blobs it names) at `tar`.
Status write_docker_archive(const stdfs::path& tar, const json& entries, const std::map<std::string, stdfs::path>& blobs) {
  struct archive* a = archive_write_new();
  auto fail = [&](std::string_view what) {
    std::string msg = archive_error_string(a) ? archive_error_string(a) : fs::errno_text(errno);
    archive_write_free(a);
    return make_error(ErrorCode::kIOError, "{}: {}: {}", tar.string(), what, msg);
  };
  if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK || archive_write_open_filename(a, tar.c_str()) != ARCHIVE_OK) {
    return fail("cannot create");
  }
  auto add = [&](const std::string& name, std::uint64_t size, const std::function<Status(struct archive*)>& body) -> Status {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    const int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK) {
      return make_error(ErrorCode::kIOError, "{}: writing {}: {}", tar.string(), name,
                        archive_error_string(a) ? archive_error_string(a) : "?");
    }
    return body(a);
  };
  const std::string manifest = entries.dump();
  Status st = add("manifest.json", manifest.size(), [&](struct archive* w) -> Status {
    if (archive_write_data(w, manifest.data(), manifest.size()) != static_cast<la_ssize_t>(manifest.size())) {
      return make_error(ErrorCode::kIOError, "{}: writing manifest.json", tar.string());
    }
    return ok_status();
  });
  std::set<std::string> written;
  for (const json& entry : entries) {
    std::vector<std::string> names = {entry["Config"].get<std::string>()};
    for (const json& l : entry["Layers"]) {
      names.push_back(l.get<std::string>());
    }
    for (const std::string& name : names) {
      if (!st || !written.insert(name).second) {
        continue;
      }
      const stdfs::path& src = blobs.at(name.substr(13));  // "blobs/sha256/" + hex, checked when listed
      auto file = fs::File::open_read(src);
      if (!file) {
        st = std::unexpected(file.error());
        break;
      }
      std::error_code ec;
      const std::uint64_t size = stdfs::file_size(src, ec);
      st = add(name, size, [&](struct archive* w) -> Status {
        Bytes buffer(1 << 20);
        std::uint64_t left = size;
        while (left > 0) {
          ASSIGN_OR_RETURN(std::size_t n, file->read_some(buffer));
          if (n == 0) {
            return make_error(ErrorCode::kIOError, "{}: shorter than {} bytes", src.string(), size);
          }
          n = static_cast<std::size_t>(std::min<std::uint64_t>(n, left));
          if (archive_write_data(w, buffer.data(), n) != static_cast<la_ssize_t>(n)) {
            return make_error(ErrorCode::kIOError, "{}: writing {}: {}", tar.string(), name,
                              archive_error_string(w) ? archive_error_string(w) : "?");
          }
          left -= n;
        }
        return ok_status();
      });
    }
  }
  if (!st) {
    archive_write_free(a);
    return st;
  }
  if (archive_write_close(a) != ARCHIVE_OK) {
    return fail("closing");
  }
  archive_write_free(a);
  return ok_status();
}

}  // namespace

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
  if (!program_on_path(runtime)) {
    return make_error(ErrorCode::kNotFound, "--load {}: {} is not installed on this machine", runtime, runtime);
  }
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(dir / "images/index.json", k_max_index_bytes));
  json index = json::parse(text, nullptr, false);
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    return make_error(ErrorCode::kCorruption, "{}: not an OCI image index", (dir / "images/index.json").string());
  }
  ASSIGN_OR_RETURN(json entries, docker_archive_entries(index["manifests"], blobs));
  TRY(make_dirs(site.staging_dir()));
  const stdfs::path tar = site.staging_dir() / fmt::format("load-{}-{}.tar", name, version);
  Status st = write_docker_archive(tar, entries, blobs);
  if (st) {
    say(fmt::format("--load {}: {} load -i {} ({} image(s))", runtime, runtime, tar.string(), entries.size()));
    ProcessOptions po;
    po.capture_output = true;
    auto r = run_process({runtime, "load", "-i", tar.string()}, po);
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

std::string local_model_commit(const std::vector<std::pair<std::string, std::string>>& path_and_sha256) {
  auto sorted = path_and_sha256;
  std::sort(sorted.begin(), sorted.end());
  crypto::Sha256 h;
  h.update(as_span("airlock local model v1\n"));
  for (const auto& [path, sha] : sorted) {
    h.update(as_span(path));
    h.update(as_span(std::string_view("\0", 1)));
    h.update(as_span(sha));
    h.update(as_span("\n"));
  }
  return to_hex(h.finish()).substr(0, 40);
}

Status mark_targets_dirty(const Site& site) {
  return fs::write_file_atomic(dirty_marker(site), as_span("rebuild ROOT/hf, images, apt, wheels\n"), 0644);
}

bool targets_dirty(const Site& site) {
  std::error_code ec;
  return stdfs::exists(dirty_marker(site), ec);
}

Result<TargetsSummary> sync_targets(Site& site) {
  TRY(mark_targets_dirty(site));
  std::vector<Installed> installed;
  ASSIGN_OR_RETURN(auto deployments, site.ledger().deployments());
  for (const DeploymentRecord& d : deployments) {
    ASSIGN_OR_RETURN(auto versions, site.ledger().versions(d.name));
    for (const VersionRecord& r : versions) {
      if (r.state != "installed") {
        continue;
      }
      Installed v;
      v.name = d.name;
      v.version = r.version;
      v.active = d.active_version == r.version;
      v.dir = site.version_dir(d.name, r.version);
      ASSIGN_OR_RETURN(VersionMeta meta, site.ledger().version_meta(d.name, r.version));
      v.sources = json::parse(meta.sources, nullptr, false);
      ASSIGN_OR_RETURN(v.files, site.ledger().files(d.name, r.version));
      installed.push_back(std::move(v));
    }
  }
  TargetsSummary sum;
  TRY(sync_hf(site, installed, sum));
  crash_point("targets");  // tests: half rebuilt, the mark still set
  TRY(sync_images(site, installed, sum));
  TRY(sync_apt(site, installed, sum));
  TRY(sync_wheels(site, installed, sum));
  TRY(remove_path(dirty_marker(site)));
  return sum;
}

}  // namespace airlock::installer
