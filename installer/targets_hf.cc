// ROOT/hf: the Hugging Face cache layout (see targets.h).
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/base/text.h"
#include "core/format/names.h"
#include "core/fs/file.h"
#include "installer/layout.h"
#include "installer/targets_internal.h"

namespace airlock::installer::targets_internal {

using namespace layout;

namespace {

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

// The sources were decoded (core/format/sources.h): a Hub model's repo,
// commit, revision and blob ids follow core/format/names.h, and its files
// are files of the version.
std::optional<HfModel> hf_model_of(const Installed& v) {
  HfModel m;
  const format::Source* src = find_source(v.sources, "model");
  if (src != nullptr && src->is_hub_model()) {
    m.repo = src->identity.repo;
    m.commit = src->identity.commit;
    m.revision = src->identity.revision;
    for (const format::SourceFile& f : src->files) {
      m.files.push_back(HfFile{f.path.substr(6), f.blob, v.dir / f.path});
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
    return std::nullopt;
  }
  return m;
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

}  // namespace

Status sync_hf(const Site& site, const std::vector<Installed>& installed, TargetsSummary& sum) {
  std::map<std::string, HfRepo> repos;  // by folder name
  for (const Installed& v : installed) {
    std::optional<HfModel> m = hf_model_of(v);
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
        if (format::names::is_hf_revision(m->revision)) {
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

}  // namespace airlock::installer::targets_internal
