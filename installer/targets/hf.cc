// ROOT/hf: the Hugging Face cache layout (see targets.h).
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include <memory>

#include "core/base/text.h"
#include "core/crypto/sha256.h"
#include "core/names/names.h"
#include "core/fs/file.h"
#include "installer/targets/layout.h"
#include "installer/targets/internal.h"

namespace airlock::installer::targets_internal {

using namespace layout;

namespace {

struct HfFile {
  std::string rel;     // path inside the snapshot
  std::string blob;    // blob name
  stdfs::path src;     // installed copy
  std::string sha256;  // its signed SHA-256 (the ledger's)
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

Result<std::optional<HfModel>> hf_model_of(const Installed& v, std::vector<std::string>& notes) {
  HfModel m;
  // The sources were decoded (core/format/sources.h): a Hub model's repo,
  // commit, revision and blob ids follow core/names/names.h, and its files
  // are files of the version with the same signed SHA-256.
  const format::Source* src = find_source(v.sources, "model");
  if (src != nullptr && src->is_hub_model()) {
    m.repo = src->identity.repo;
    m.commit = src->identity.commit;
    m.revision = src->identity.revision;
    std::map<std::string, std::string> installed;  // the ledger's paths and signed SHA-256s
    for (const FileRecord& r : v.files) {
      installed.emplace(r.path, r.sha256);
    }
    for (const format::SourceFile& f : src->files) {
      if (!installed.contains(f.path)) {
        return make_error(ErrorCode::kCorruption, "{}/{}: the model source lists '{}', which was not installed",
                          v.name, v.version, f.path);
      }
      if (f.lfs && f.blob != installed.at(f.path)) {
        // The name must be the signed content hash, or one version could
        // put any bytes under a name another version's snapshot links to.
        notes.push_back(fmt::format("{}/{}: {} claims LFS blob {}, but its signed SHA-256 is {}; its model is not in "
                                    "ROOT/hf",
                                    v.name, v.version, f.path, f.blob, installed.at(f.path)));
        return std::optional<HfModel>();
      }
      m.files.push_back(HfFile{f.path.substr(6), f.blob, v.dir / f.path, installed.at(f.path)});
    }
  } else {
    // A local directory (or a bundle older than `sources`): a synthetic repo.
    m.repo = "airlock/" + v.name;
    m.revision = "main";
    std::vector<std::pair<std::string, std::string>> listed;
    for (const FileRecord& f : v.files) {
      if (f.path.starts_with("model/")) {
        listed.emplace_back(f.path.substr(6), f.sha256);
        m.files.push_back(HfFile{f.path.substr(6), f.sha256, v.dir / f.path, f.sha256});
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

// "sha256 hex" of a snapshot's (path, link) list: one claim's value, so two
// versions' snapshots of one commit can be compared.
std::string snapshot_digest(const std::map<std::string, std::string>& links) {
  crypto::Sha256 h;
  for (const auto& [rel, link] : links) {
    h.update(as_bytes(rel));
    h.update(as_bytes(std::string_view("\0", 1)));
    h.update(as_bytes(link));
    h.update(as_bytes(std::string_view("\n", 1)));
  }
  return to_hex(h.finish());
}

std::map<std::string, std::string> snapshot_links(const std::vector<HfFile>& files) {
  std::map<std::string, std::string> out;
  for (const HfFile& f : files) {
    out[f.rel] = blob_link(f.rel, f.blob);
  }
  return out;
}

Status put_symlink(const stdfs::path& link, const std::string& text) {
  std::error_code ec;
  auto have = stdfs::read_symlink(link, ec);
  if (!ec && have.string() == text) {
    return ok_status();
  }
  stdfs::path tmp = link;
  tmp += ".tmp-link";
  (void)::unlink(tmp.c_str());
  if (::symlink(text.c_str(), tmp.c_str()) != 0) {
    return make_error(ErrorCode::kIOError, "{}: cannot create symlink: {}", tmp.string(), fs::errno_text(errno));
  }
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    const int err = errno;
    (void)::unlink(tmp.c_str());
    return make_error(ErrorCode::kIOError, "{}: cannot rename into place: {}", link.string(), fs::errno_text(err));
  }
  return ok_status();
}

// A new snapshot appears whole (built aside, renamed in); an existing one
// has its links put right one by one, and whatever else is in it stays.
Status write_snapshot(const stdfs::path& snapshots, const std::string& commit,
                      const std::map<std::string, std::string>& links) {
  const stdfs::path final_dir = snapshots / commit;
  std::error_code ec;
  const bool exists = stdfs::is_directory(stdfs::symlink_status(final_dir, ec));
  const stdfs::path dir = exists ? final_dir : snapshots / (".tmp-" + commit);
  if (!exists) {
    TRY(remove_path(dir));
  }
  for (const auto& [rel, text] : links) {
    const stdfs::path link = dir / rel;
    TRY(make_dirs(link.parent_path()));
    TRY(put_symlink(link, text));
  }
  if (!exists && ::rename(dir.c_str(), final_dir.c_str()) != 0) {
    return make_error(ErrorCode::kIOError, "{}: cannot rename into place: {}", final_dir.string(),
                      fs::errno_text(errno));
  }
  return fs::fsync_dir(snapshots);
}

struct HfClaimant {
  const Installed* v;
  HfModel m;
  bool out = false;  // lost a claim: not in ROOT/hf
};

Status sync_hf(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum, bool apply) {
  Entries entries(site, "hf");  // HfTarget::name()
  TRY(entries.load());
  std::map<std::string, std::vector<HfClaimant>> repos;  // by folder name
  std::vector<std::string> dry_notes;
  for (const Installed& v : installed) {
    ASSIGN_OR_RETURN(std::optional<HfModel> m, hf_model_of(v, apply ? sum.notes : dry_notes));
    if (m) {
      const std::string folder = repo_folder(m->repo);
      repos[folder].push_back(HfClaimant{&v, std::move(*m)});
    }
  }
  // What the ledger says each recorded snapshot held (path -> link).
  std::map<std::string, std::map<std::string, std::string>> recorded_snapshots;  // "folder/snapshots/C" -> links
  {
    ASSIGN_OR_RETURN(auto all, site.ledger().target_entries());
    for (const TargetEntry& e : all) {
      const std::size_t at = e.path.find("/snapshots/");
      if (e.target != "hf" || e.kind != "link" || at == std::string::npos) {
        continue;
      }
      const std::size_t slash = e.path.find('/', at + 11);
      if (slash != std::string::npos) {
        recorded_snapshots[e.path.substr(0, slash)][e.path.substr(slash + 1)] = e.value;
      }
    }
  }
  struct Plan {
    std::map<std::string, std::pair<stdfs::path, std::string>> blobs;  // name -> (src, sha256)
    std::map<std::string, std::map<std::string, std::string>> snapshots;  // commit -> links
    std::map<std::string, std::string> refs;                           // revision -> commit
    std::string repo;
  };
  std::map<std::string, Plan> plans;
  for (auto& [folder, cs] : repos) {
    Plan& plan = plans[folder];
    plan.repo = cs.front().m.repo;
    // 1. One snapshot per commit: the same commit must mean the same files.
    std::map<std::string, std::vector<std::size_t>> by_commit;
    for (std::size_t i = 0; i < cs.size(); ++i) {
      by_commit[cs[i].m.commit].push_back(i);
    }
    for (const auto& [commit, idx] : by_commit) {
      std::vector<Claim> claims;
      for (std::size_t i : idx) {
        claims.push_back(Claim{snapshot_digest(snapshot_links(cs[i].m.files)), cs[i].v->name + "/" + cs[i].v->version});
      }
      const std::string where = (entries.dir() / folder / "snapshots" / commit).string();
      TargetEntry rec;
      const TargetEntry* recp = nullptr;
      if (auto r = recorded_snapshots.find(folder + "/snapshots/" + commit); r != recorded_snapshots.end()) {
        rec.value = snapshot_digest(r->second);
        recp = &rec;
      }
      const std::size_t win = pick_claim(claims, recp, where, sum);
      for (std::size_t k = 0; k < idx.size(); ++k) {
        cs[idx[k]].out = claims[k].value != claims[win].value;
      }
    }
    // 2. Blobs: every name checked against the signed bytes.
    for (HfClaimant& c : cs) {
      if (c.out) {
        continue;
      }
      for (const HfFile& f : c.m.files) {
        const std::string path = folder + "/blobs/" + f.blob;
        if (apply && f.blob.size() == 40) {
          const TargetEntry* r = entries.recorded(path);
          if (r == nullptr || r->value != f.sha256) {
            auto sha1 = git_blob_sha1(f.src);
            if (!sha1 || *sha1 != f.blob) {
              sum.notes.push_back(fmt::format("{}/{}: model/{} is not git blob {} (its bytes hash to {}); its model "
                                              "is not in ROOT/hf",
                                              c.v->name, c.v->version, f.rel, f.blob,
                                              sha1 ? *sha1 : sha1.error().message()));
              c.out = true;
              break;
            }
          }
        }
        if (auto have = plan.blobs.find(f.blob); have != plan.blobs.end() && have->second.second != f.sha256) {
          // Same name, other bytes: only a SHA-1 collision gets here.
          sum.conflicts.push_back(fmt::format("{}: shipped with different bytes by {}/{}; not linked from it",
                                              (entries.dir() / path).string(), c.v->name, c.v->version));
          sum.conflict_parties.emplace_back("", c.v->name);
          c.out = true;
          break;
        }
      }
      if (c.out) {
        continue;
      }
      for (const HfFile& f : c.m.files) {
        plan.blobs.emplace(f.blob, std::pair{f.src, f.sha256});
      }
      plan.snapshots[c.m.commit] = snapshot_links(c.m.files);
    }
    // 3. refs/main follows the active version; refs/<revision> the versions
    //    pinned to it (the active one first), while their snapshot is here.
    std::map<std::string, std::vector<Claim>> refs_active, refs_other;
    for (const HfClaimant& c : cs) {
      if (c.out) {
        continue;
      }
      const std::string by = c.v->name + "/" + c.v->version;
      if (c.v->active) {
        refs_active["main"].push_back(Claim{c.m.commit, by});
      }
      if (c.m.revision != "main" && c.m.revision != c.m.commit) {
        if (!format::names::is_hf_revision(c.m.revision)) {
          if (apply) {
            sum.notes.push_back(fmt::format("{}: revision '{}' cannot be a ref file; only refs/main is written", by,
                                            c.m.revision));
          }
          continue;
        }
        (c.v->active ? refs_active : refs_other)[c.m.revision].push_back(Claim{c.m.commit, by});
      }
    }
    for (auto& [rev, claims] : refs_other) {
      if (!refs_active.contains(rev)) {
        refs_active[rev] = claims;
      }
    }
    for (const auto& [rev, claims] : refs_active) {
      const std::string path = folder + "/refs/" + rev;
      const std::size_t win = pick_claim(claims, entries.recorded(path), (entries.dir() / path).string(), sum);
      plan.refs[rev] = claims[win].value;
    }
    for (const auto& [blob, src] : plan.blobs) {
      entries.want(folder + "/blobs/" + blob, "file", src.second);
    }
    for (const auto& [commit, links] : plan.snapshots) {
      for (const auto& [rel, link] : links) {
        entries.want(folder + "/snapshots/" + commit + "/" + rel, "link", link);
      }
    }
    for (const auto& [rev, commit] : plan.refs) {
      entries.want(folder + "/refs/" + rev, "ref", commit);
    }
  }
  if (!apply) {
    return ok_status();
  }
  TRY(entries.begin());
  const stdfs::path hf = entries.dir();
  for (const auto& [folder, plan] : plans) {
    if (plan.snapshots.empty()) {
      continue;
    }
    const stdfs::path dir = hf / folder;
    TRY(make_dirs(dir / "blobs"));
    TRY(make_dirs(dir / "snapshots"));
    TRY(make_dirs(dir / "refs"));
    for (const auto& [blob, src] : plan.blobs) {
      TRY(link_file(src.first, dir / "blobs" / blob));
    }
    for (const auto& [commit, links] : plan.snapshots) {
      TRY(write_snapshot(dir / "snapshots", commit, links));
      ++sum.snapshots;
    }
    for (const auto& [rev, commit] : plan.refs) {
      TRY(make_dirs((dir / "refs" / rev).parent_path()));
      TRY(write_text(dir / "refs" / rev, commit));  // no newline, as huggingface_hub writes it
    }
    if (auto main = plan.refs.find("main"); main != plan.refs.end()) {
      sum.models.push_back(fmt::format("{}@{}", plan.repo, main->second));
    }
  }
  TRY(entries.finish(sum));
  std::error_code ec;
  if (stdfs::is_directory(hf, ec)) {
    return fs::fsync_dir(hf);
  }
  return ok_status();
}

class HfTarget final : public Target {
 public:
  std::string_view name() const override { return "hf"; }
  Status sync(Site& site, const std::vector<Installed>& installed, TargetsSummary& sum, bool apply) const override {
    return sync_hf(site, installed, sum, apply);
  }
};

}  // namespace

const Target& hf_target() {
  static const HfTarget target;
  return target;
}

}  // namespace airlock::installer::targets_internal
