#include "installer/site/site.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/ranges.h>

#include "core/fs/dir.h"
#include "core/fs/file.h"
#include "core/fs/users.h"
#include "installer/admit/rotation.h"
#include "installer/targets/targets.h"
#include "keys/key_files.h"

namespace airlock::installer {

stdfs::path resolve_root(const std::string& option) {
  if (!option.empty()) {
    return option;
  }
  if (const char* env = std::getenv("AIRLOCK_ROOT"); env != nullptr && *env != '\0') {
    return env;
  }
  return "/var/lib/airlock";
}

std::string current_user() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') {
    return std::string(sudo) + " (sudo)";
  }
  return fs::user_name_or_uid(::getuid());
}

namespace {

// A folder or file under ROOT that only this user may change: absent is fine.
Status check_if_present(const stdfs::path& p, fs::EntryType type, bool secret = false) {
  Status st = fs::check_private(p, type, secret);
  if (!st && st.error().code() == ErrorCode::kNotFound) {
    return ok_status();
  }
  return st;
}

// ROOT is the installer's and nobody else's: ROOT and every folder and key
// file the installer keeps there must be this user's, not writable by group
// or others, and real (not symlinks), or a command could be made to trust,
// write or delete what another user planted. Checked before anything is read.
Status check_root_is_private(const stdfs::path& root) {
  using fs::EntryType;
  TRY(fs::check_private(root, EntryType::kDirectory));
  for (const char* f : {"ledger.db", "ledger.db-wal", "ledger.db-shm", "ledger.db-journal", "keys/site.pub",
                        "keys/policy.json", "keys/root-policy.json"}) {
    TRY(check_if_present(root / f, EntryType::kFile));
  }
  TRY(check_if_present(root / "keys/site.key", EntryType::kFile, /*secret=*/true));
  for (const char* d : {"keys", "keys/apt", "staging", "deployments", "hf", "images", "apt", "wheels"}) {
    TRY(check_if_present(root / d, EntryType::kDirectory));
  }
  // Key folders: each key file too (one writable .pub is a trusted key anyone can replace).
  for (const char* d : {"keys/trusted", "keys/root", "keys/revoked"}) {
    TRY(check_if_present(root / d, EntryType::kDirectory));
    if (auto dir = fs::Dir::open(root / d)) {
      ASSIGN_OR_RETURN(auto entries, dir->list());
      for (const fs::DirEntry& e : entries) {
        TRY(fs::check_private(root / d / e.name, EntryType::kFile));
      }
    }
  }
  if (auto deps = fs::Dir::open(root / "deployments")) {
    ASSIGN_OR_RETURN(auto entries, deps->list());
    for (const fs::DirEntry& e : entries) {
      TRY(fs::check_private(root / "deployments" / e.name, EntryType::kDirectory));
    }
  }
  return ok_status();
}

// What is in dir, as ROOT-relative names of its files, links and empty
// folders (so a refusal names keys/site.key, not just keys/), never through a link.
Status list_leaves(const fs::Dir& dir, const std::string& prefix, std::vector<std::string>& out) {
  ASSIGN_OR_RETURN(auto entries, dir.list());
  if (entries.empty() && !prefix.empty()) {
    out.push_back(prefix);
  }
  for (const fs::DirEntry& e : entries) {
    if (prefix.empty() && e.name == "lost+found") {
      continue;  // a fresh file system's own
    }
    if (e.type != fs::EntryType::kDirectory || out.size() > 64) {
      out.push_back(prefix + e.name);
      continue;
    }
    ASSIGN_OR_RETURN(fs::Dir sub, dir.open_sub(e.name));
    TRY(list_leaves(sub, prefix + e.name + "/", out));
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<Site>> Site::open(const stdfs::path& root, const Os& os) {
  std::error_code ec;
  stdfs::path ledger_path = root / "ledger.db";
  if (!stdfs::exists(stdfs::symlink_status(ledger_path, ec))) {
    return make_error(ErrorCode::kNotFound,
                      "{} is not an initialised airlock root (no ledger.db); run 'airlock-installer init --root {}'",
                      root.string(), root.string());
  }
  fs::confine_below(root);  // from here on nothing below ROOT is reached through a link
  TRY(check_root_is_private(root));
  ASSIGN_OR_RETURN(auto ledger, Ledger::open(ledger_path));
  return std::unique_ptr<Site>(new Site(root, std::move(ledger), os));
}

Result<std::unique_ptr<Site>> Site::init(const stdfs::path& root, const Os& os) {
  std::error_code ec;
  if (stdfs::exists(stdfs::symlink_status(root / "ledger.db", ec))) {
    return make_error(ErrorCode::kInvalidArgument, "{} is already initialised (ledger.db exists)", root.string());
  }
  if (stdfs::exists(stdfs::symlink_status(root, ec))) {
    // An existing directory is adopted only when empty: keys, trusted keys or
    // a policy that init did not make would be trusted from then on.
    fs::confine_below(root);
    TRY(fs::check_private(root, fs::EntryType::kDirectory));
    ASSIGN_OR_RETURN(fs::Dir dir, fs::Dir::open(root));
    std::vector<std::string> found;
    TRY(list_leaves(dir, "", found));
    if (!found.empty()) {
      std::sort(found.begin(), found.end());
      const std::size_t shown = std::min<std::size_t>(found.size(), 8);
      return make_error(ErrorCode::kInvalidArgument,
                        "{} is not empty ({}{}); init makes its own site key, trusted keys and policy and will not "
                        "adopt files it did not create: remove them, or init an empty or new directory",
                        root.string(), fmt::join(found.begin(), found.begin() + static_cast<long>(shown), ", "),
                        found.size() > shown ? fmt::format(" and {} more", found.size() - shown) : "");
    }
  } else {
    stdfs::create_directories(root.parent_path().empty() ? stdfs::path(".") : root.parent_path(), ec);
    if (::mkdir(root.c_str(), 0700) != 0) {  // EEXIST too: whatever appeared meanwhile is not ours
      return make_error(ErrorCode::kIOError, "{}: cannot create: {}", root.string(), fs::errno_text(errno));
    }
    if (::chmod(root.c_str(), 0755) != 0) {  // exactly 0755, whatever the umask
      return make_error(ErrorCode::kIOError, "{}: cannot set mode: {}", root.string(), fs::errno_text(errno));
    }
    fs::confine_below(root);
    TRY(fs::check_private(root, fs::EntryType::kDirectory));
  }
  {
    fs::ScopedUmask keys_umask(077);  // nothing under keys/ for anyone else to read
    TRY(fs::make_dirs(root / "keys", 0700));
    TRY(fs::make_dirs(root / "keys" / "trusted", 0700));
    TRY(keys::generate_site_key(root / "keys"));
  }
  TRY(fs::make_dirs(root / "staging", 0755));
  TRY(fs::make_dirs(root / "deployments", 0755));
  ASSIGN_OR_RETURN(auto ledger, Ledger::create(root / "ledger.db"));
  auto site = std::unique_ptr<Site>(new Site(root, std::move(ledger), os));
  ASSIGN_OR_RETURN(format::SiteKey key, site->site_key());
  TRY(site->log("init", "site", "ok", fmt::format("site key {}", key.keyid)));
  return site;
}

Result<format::SiteKey> Site::site_key() const { return keys::load_site_key(keys_dir()); }

Status Site::log(const std::string& action, const std::string& target, const std::string& result,
                 const std::string& detail) {
  auto e = m_ledger->append_event(m_os.clock.now_seconds(), current_user(), action, target, result, detail);
  if (!e) {
    return std::unexpected(e.error());
  }
  return ok_status();
}

Status Site::switch_current(const std::string& name, const std::string& version) {
  return m_os.files.replace_symlink(deployment_dir(name) / "current", version);
}

Site::~Site() {
  if (m_lock_fd >= 0) {
    ::close(m_lock_fd);
  }
}

Status Site::lock_exclusive() {
  if (m_lock_fd >= 0) {
    return ok_status();
  }
  const stdfs::path path = m_root / "lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return make_error(ErrorCode::kIOError, "{}: cannot open: {}", path.string(), fs::errno_text(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return make_error(ErrorCode::kIOError,
                        "{}: another airlock-installer command is working on this root (install, rollback, gc, "
                        "publish...); try again when it has finished",
                        m_root.string());
    }
    return make_error(ErrorCode::kIOError, "{}: cannot lock: {}", path.string(), fs::errno_text(err));
  }
  m_lock_fd = fd;
  return ok_status();
}

Status Site::clear_current(const std::string& name) {
  TRY(fs::remove_entry(deployment_dir(name) / "current"));
  return fs::fsync_dir(deployment_dir(name));
}

Result<std::vector<std::string>> Site::recover() {
  std::vector<std::string> repaired;
  m_recover_failures.clear();
  std::error_code ec;
  // Every listing and removal below goes through core/fs/dir.h: directories
  // are opened without following links, a link is removed, never its target.
  // 1. Partial installs: nothing in staging is ever live; drop it.
  if (auto staging = fs::Dir::open(staging_dir())) {
    ASSIGN_OR_RETURN(auto entries, staging->list());
    for (const fs::DirEntry& e : entries) {
      TRY(staging->remove(e.name));
      repaired.push_back(fmt::format("removed interrupted install {}", e.name));
    }
  } else if (staging.error().code() != ErrorCode::kNotFound) {
    return std::unexpected(staging.error());
  }
  // 2. Version directories the ledger does not list as installed: an install
  //    that crashed between moving files into place and committing.
  if (auto deployments = fs::Dir::open(deployments_dir())) {
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
        ASSIGN_OR_RETURN(auto rec, m_ledger->find_version(name, version));
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
  ASSIGN_OR_RETURN(auto deps, m_ledger->deployments());
  for (const DeploymentRecord& d : deps) {
    if (!d.active_version) {
      std::error_code lec;
      if (stdfs::is_symlink(deployment_dir(d.name) / "current", lec)) {
        TRY(clear_current(d.name));
        repaired.push_back(fmt::format("removed {}/current: the ledger records no active version", d.name));
      }
      continue;
    }
    stdfs::path link = deployment_dir(d.name) / "current";
    auto target = stdfs::read_symlink(link, ec);
    if (ec || target.string() != *d.active_version) {
      Status st = fs::make_dirs(deployment_dir(d.name), 0755);
      if (st) {
        st = switch_current(d.name, *d.active_version);
      }
      if (!st) {
        m_recover_failures.push_back(fmt::format("could not point {}/current at {} as the ledger records: {}; the "
                                                 "next command retries",
                                                 d.name, *d.active_version, st.error().message()));
      } else {
        repaired.push_back(fmt::format("pointed {}/current at {} as the ledger records", d.name, *d.active_version));
      }
    }
  }
  // 4. The install targets, when a command stopped (or failed) between
  //    changing the active version and rebuilding them.
  if (targets_dirty(*this)) {
    if (auto sum = sync_targets(*this); !sum) {
      m_recover_failures.push_back(targets_retry_text(sum.error()));
    } else {
      repaired.push_back("rebuilt ROOT/hf, ROOT/images, ROOT/apt and ROOT/wheels, which an interrupted command left stale");
    }
  }
  // 5. Key rotations committed with their version but not yet applied (a
  //    crash in between): applied, or reported as superseded (rotation.h).
  ASSIGN_OR_RETURN(std::vector<std::string> rotations, settle_pending_rotations(*this));
  repaired.insert(repaired.end(), rotations.begin(), rotations.end());
  for (const std::string& r : repaired) {
    TRY(log("recover", "site", "ok", r));
  }
  for (const std::string& r : m_recover_failures) {
    (void)log("recover", "site", "failed", r);
  }
  return repaired;
}

}  // namespace airlock::installer
