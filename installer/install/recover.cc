#include "installer/install/recover.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/fs/dir.h"
#include "core/fs/file.h"
#include "installer/admit/rotation.h"
#include "installer/targets/targets.h"

namespace airlock::installer {

Result<Recovery> recover(Site& site) {
  Recovery out;
  std::vector<std::string>& repaired = out.repaired;
  std::vector<std::string>& failures = out.failures;
  std::error_code ec;
  // Every listing and removal below goes through core/fs/dir.h: directories
  // are opened without following links, a link is removed, never its target.
  // 1. Partial installs: nothing in staging is ever live; drop it, but for
  //    an install stopped between volumes (its resume.json says which are
  //    staged): that is kept for the next install of the same bundle, which
  //    re-hashes every staged file (install.cc), or dropped by any other.
  if (auto staging = fs::Dir::open(site.staging_dir())) {
    ASSIGN_OR_RETURN(auto entries, staging->list());
    for (const fs::DirEntry& e : entries) {
      if (e.type == fs::EntryType::kDirectory) {
        if (auto sub = staging->open_sub(e.name)) {
          ASSIGN_OR_RETURN(auto inside, sub->list());
          if (std::any_of(inside.begin(), inside.end(), [](const fs::DirEntry& i) {
                return i.name == "resume.json" && i.type == fs::EntryType::kFile;
              })) {
            continue;
          }
        }
      }
      TRY(staging->remove(e.name));
      repaired.push_back(fmt::format("removed interrupted install {}", e.name));
    }
  } else if (staging.error().code() != ErrorCode::kNotFound) {
    return std::unexpected(staging.error());
  }
  // 2. Version directories the ledger does not list as installed: an install
  //    that crashed between moving files into place and committing.
  if (auto deployments = fs::Dir::open(site.deployments_dir())) {
    ASSIGN_OR_RETURN(auto deps, deployments->list());
    for (const fs::DirEntry& dep : deps) {
      if (dep.type != fs::EntryType::kDirectory) {
        continue;
      }
      const std::string& name = dep.name;
      ASSIGN_OR_RETURN(fs::Dir dep_dir, deployments->open_sub(name));
      ASSIGN_OR_RETURN(auto versions, dep_dir.list());
      for (const fs::DirEntry& ver : versions) {
        const std::string& version = ver.name;
        if (ver.type == fs::EntryType::kSymlink || version.find(".tmp-") != std::string::npos) {
          if (version.find(".tmp-") != std::string::npos) {
            TRY(dep_dir.remove(version));
          }
          continue;
        }
        ASSIGN_OR_RETURN(auto rec, site.ledger().find_version(name, version));
        if (!rec || rec->state != "installed") {
          TRY(dep_dir.remove(version));
          repaired.push_back(fmt::format("removed {}/{} (not committed to the ledger)", name, version));
        }
      }
    }
  } else if (deployments.error().code() != ErrorCode::kNotFound) {
    return std::unexpected(deployments.error());
  }
  // 3. The current symlink follows the ledger's active version.
  ASSIGN_OR_RETURN(auto deps, site.ledger().deployments());
  for (const DeploymentRecord& d : deps) {
    if (!d.active_version) {
      std::error_code lec;
      if (stdfs::is_symlink(site.deployment_dir(d.name) / "current", lec)) {
        TRY(site.clear_current(d.name));
        repaired.push_back(fmt::format("removed {}/current: the ledger records no active version", d.name));
      }
      continue;
    }
    stdfs::path link = site.deployment_dir(d.name) / "current";
    auto target = stdfs::read_symlink(link, ec);
    if (ec || target.string() != *d.active_version) {
      Status st = fs::make_dirs(site.deployment_dir(d.name), 0755);
      if (st) {
        st = site.switch_current(d.name, *d.active_version);
      }
      if (!st) {
        failures.push_back(fmt::format("could not point {}/current at {} as the ledger records: {}; the "
                                                 "next command retries",
                                                 d.name, *d.active_version, st.error().message()));
      } else {
        repaired.push_back(fmt::format("pointed {}/current at {} as the ledger records", d.name, *d.active_version));
      }
    }
  }
  // 4. The install targets, when a command stopped (or failed) between
  //    changing the active version and rebuilding them.
  if (targets_dirty(site)) {
    if (auto sum = sync_targets(site); !sum) {
      failures.push_back(targets_retry_text(sum.error()));
    } else {
      repaired.push_back(fmt::format("rebuilt {}, which an interrupted command left stale", target_dirs_text()));
    }
  }
  // 5. Key rotations committed with their version but not yet applied (a
  //    crash in between): applied, or reported as superseded (rotation.h).
  ASSIGN_OR_RETURN(std::vector<std::string> rotations, settle_pending_rotations(site));
  repaired.insert(repaired.end(), rotations.begin(), rotations.end());
  for (const std::string& r : repaired) {
    TRY(site.log("recover", "site", "ok", r));
  }
  for (const std::string& r : failures) {
    (void)site.log("recover", "site", "failed", r);
  }
  return out;
}

}  // namespace airlock::installer
