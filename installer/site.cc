#include "installer/site.h"

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/fs/file.h"
#include "installer/rotation.h"
#include "installer/targets.h"
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

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string current_user() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') {
    return std::string(sudo) + " (sudo)";
  }
  if (struct passwd* pw = ::getpwuid(::getuid()); pw != nullptr) {
    return pw->pw_name;
  }
  return std::to_string(::getuid());
}

Result<std::unique_ptr<Site>> Site::open(const stdfs::path& root) {
  std::error_code ec;
  stdfs::path ledger_path = root / "ledger.db";
  if (!stdfs::exists(ledger_path, ec)) {
    return make_error(ErrorCode::kNotFound,
                      "{} is not an initialised airlock root (no ledger.db); run 'airlock-installer init --root {}'",
                      root.string(), root.string());
  }
  ASSIGN_OR_RETURN(auto ledger, Ledger::open(ledger_path));
  return std::unique_ptr<Site>(new Site(root, std::move(ledger)));
}

Result<std::unique_ptr<Site>> Site::init(const stdfs::path& root) {
  std::error_code ec;
  if (stdfs::exists(root / "ledger.db", ec)) {
    return make_error(ErrorCode::kInvalidArgument, "{} is already initialised (ledger.db exists)", root.string());
  }
  for (const char* sub : {"", "keys", "keys/trusted", "staging", "deployments"}) {
    stdfs::create_directories(root / sub, ec);
    if (ec) {
      return make_error(ErrorCode::kIOError, "{}: cannot create: {}", (root / sub).string(), ec.message());
    }
  }
  stdfs::permissions(root / "keys", stdfs::perms::owner_all, ec);
  if (!stdfs::exists(root / "keys" / "site.key", ec)) {
    TRY(keys::generate_site_key(root / "keys"));
  }
  ASSIGN_OR_RETURN(auto ledger, Ledger::create(root / "ledger.db"));
  auto site = std::unique_ptr<Site>(new Site(root, std::move(ledger)));
  ASSIGN_OR_RETURN(format::SiteKey key, site->site_key());
  TRY(site->log("init", "site", "ok", fmt::format("site key {}", key.keyid)));
  return site;
}

Result<format::SiteKey> Site::site_key() const { return keys::load_site_key(keys_dir()); }

Status Site::log(const std::string& action, const std::string& target, const std::string& result,
                 const std::string& detail) {
  auto e = m_ledger->append_event(now_seconds(), current_user(), action, target, result, detail);
  if (!e) {
    return std::unexpected(e.error());
  }
  return ok_status();
}

Status Site::switch_current(const std::string& name, const std::string& version) {
  return fs::replace_symlink(deployment_dir(name) / "current", version);
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
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
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
  const stdfs::path link = deployment_dir(name) / "current";
  if (::unlink(link.c_str()) != 0 && errno != ENOENT) {
    return make_error(ErrorCode::kIOError, "{}: cannot remove: {}", link.string(), fs::errno_text(errno));
  }
  return fs::fsync_dir(deployment_dir(name));
}

Result<std::vector<std::string>> Site::recover() {
  std::vector<std::string> repaired;
  std::error_code ec;
  // 1. Partial installs: nothing in staging is ever live; drop it.
  if (stdfs::is_directory(staging_dir(), ec)) {
    for (const auto& e : stdfs::directory_iterator(staging_dir(), ec)) {
      TRY(fs::remove_tree(e.path()));
      repaired.push_back(fmt::format("removed interrupted install {}", e.path().filename().string()));
    }
  }
  // 2. Version directories the ledger does not list as installed: an install
  //    that crashed between moving files into place and committing.
  if (stdfs::is_directory(deployments_dir(), ec)) {
    for (const auto& dep : stdfs::directory_iterator(deployments_dir(), ec)) {
      if (!dep.is_directory()) {
        continue;
      }
      std::string name = dep.path().filename().string();
      for (const auto& ver : stdfs::directory_iterator(dep.path(), ec)) {
        std::string version = ver.path().filename().string();
        if (ver.is_symlink() || version.find(".tmp-") != std::string::npos) {
          if (version.find(".tmp-") != std::string::npos) {
            stdfs::remove(ver.path(), ec);
          }
          continue;
        }
        ASSIGN_OR_RETURN(auto rec, m_ledger->find_version(name, version));
        if (!rec || rec->state != "installed") {
          TRY(fs::remove_tree(ver.path()));
          repaired.push_back(fmt::format("removed {}/{} (not committed to the ledger)", name, version));
        }
      }
    }
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
      stdfs::create_directories(deployment_dir(d.name), ec);
      TRY(switch_current(d.name, *d.active_version));
      repaired.push_back(fmt::format("pointed {}/current at {} as the ledger records", d.name, *d.active_version));
    }
  }
  // 4. The install targets, when a command stopped between changing the
  //    active version and rebuilding them.
  if (targets_dirty(*this)) {
    ASSIGN_OR_RETURN(TargetsSummary sum, sync_targets(*this));
    (void)sum;
    repaired.push_back("rebuilt ROOT/hf, ROOT/images, ROOT/apt and ROOT/wheels, which an interrupted command left stale");
  }
  // 5. Key rotations committed with their version but not yet applied (a
  //    crash in between): applied, or reported as superseded (rotation.h).
  ASSIGN_OR_RETURN(std::vector<std::string> rotations, settle_pending_rotations(*this));
  repaired.insert(repaired.end(), rotations.begin(), rotations.end());
  for (const std::string& r : repaired) {
    TRY(log("recover", "site", "ok", r));
  }
  return repaired;
}

}  // namespace airlock::installer
