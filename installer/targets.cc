#include "installer/targets.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/crypto/sha256.h"
#include "core/format/names.h"
#include "core/fs/file.h"
#include "installer/crash_point.h"
#include "installer/layout.h"
#include "installer/targets_internal.h"

namespace airlock::installer {

namespace targets_internal {

using namespace layout;

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
      if (!format::names::is_target_file_name(file)) {  // an old ledger's: decode_payload refuses these now
        sum.notes.push_back(fmt::format("{}/{}: {} cannot be an entry of ROOT/wheels; left out", v.name, v.version,
                                        format::names::printable(f.path)));
        continue;
      }
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

std::string targets_retry_text(const Error& error) {
  return fmt::format("rebuilding ROOT/hf, ROOT/images, ROOT/apt and ROOT/wheels failed: {}; ROOT/targets.dirty stays "
                     "and the next airlock-installer command retries (fix the cause, or run 'airlock-installer "
                     "targets')",
                     error.message());
}

bool targets_dirty(const Site& site) {
  std::error_code ec;
  return stdfs::exists(dirty_marker(site), ec);
}

Result<TargetsSummary> sync_targets(Site& site) {
  TRY(mark_targets_dirty(site));
  TargetsSummary sum;
  std::vector<Installed> installed;
  ASSIGN_OR_RETURN(auto deployments, site.ledger().deployments());
  for (const DeploymentRecord& d : deployments) {
    ASSIGN_OR_RETURN(auto versions, site.ledger().versions(d.name));
    for (const VersionRecord& r : versions) {
      if (r.state != "installed") {
        continue;
      }
      // A ledger written before the names and sources were checked where
      // they are decoded may hold what no target can be built from: that
      // version is left out with a note, never failing the rebuild.
      if (!format::names::is_deployment_name(d.name) || !format::names::is_version(r.version)) {
        sum.notes.push_back(fmt::format("{}/{}: the name or version cannot be a target entry; left out of the targets",
                                        format::names::printable(d.name), format::names::printable(r.version)));
        continue;
      }
      Installed v;
      v.name = d.name;
      v.version = r.version;
      v.active = d.active_version == r.version;
      v.dir = site.version_dir(d.name, r.version);
      ASSIGN_OR_RETURN(VersionMeta meta, site.ledger().version_meta(d.name, r.version));
      ASSIGN_OR_RETURN(v.files, site.ledger().files(d.name, r.version));
      std::map<std::string, format::ListedFile> listed;
      for (const FileRecord& f : v.files) {
        listed.emplace(f.path, format::ListedFile{f.size, f.sha256});
      }
      const json raw = json::parse(meta.sources, nullptr, false);
      Result<std::vector<format::Source>> sources = make_error(ErrorCode::kCorruption, "sources is not JSON");
      if (!raw.is_discarded()) {
        sources = format::decode_sources(raw, listed);
      }
      if (!sources) {
        sum.notes.push_back(fmt::format("{}/{}: its recorded sources are malformed ({}); left out of the targets",
                                        d.name, r.version, sources.error().message()));
        continue;
      }
      v.sources = std::move(*sources);
      installed.push_back(std::move(v));
    }
  }
  TRY(sync_hf(site, installed, sum));
  crash_point("targets");  // tests: half rebuilt, the mark still set
  TRY(sync_images(site, installed, sum));
  TRY(sync_apt(site, installed, sum));
  TRY(sync_wheels(site, installed, sum));
  TRY(remove_path(dirty_marker(site)));
  return sum;
}

}  // namespace airlock::installer
