#include "installer/targets.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/crypto/sha256.h"
#include "core/fs/file.h"
#include "installer/crash_point.h"
#include "installer/layout.h"
#include "installer/targets_internal.h"

namespace airlock::installer {

namespace targets_internal {

using namespace layout;

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

}  // namespace targets_internal

using namespace targets_internal;

namespace {

stdfs::path dirty_marker(const Site& site) { return site.root() / "targets.dirty"; }

}  // namespace

std::string local_model_commit(const std::vector<std::pair<std::string, std::string>>& path_and_sha256) {
  auto sorted = path_and_sha256;
  std::sort(sorted.begin(), sorted.end());
  crypto::Sha256 h;
  h.update(as_bytes("airlock local model v1\n"));
  for (const auto& [path, sha] : sorted) {
    h.update(as_bytes(path));
    h.update(as_bytes(std::string_view("\0", 1)));
    h.update(as_bytes(sha));
    h.update(as_bytes("\n"));
  }
  return to_hex(h.finish()).substr(0, 40);
}

Status mark_targets_dirty(const Site& site) {
  return fs::write_file_atomic(dirty_marker(site), as_bytes("rebuild ROOT/hf, images, apt, wheels\n"), 0644);
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
