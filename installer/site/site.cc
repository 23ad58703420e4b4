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
                        "keys/site-signing.pub", "keys/policy.json", "keys/root-policy.json"}) {
    TRY(check_if_present(root / f, EntryType::kFile));
  }
  TRY(check_if_present(root / "keys/site.key", EntryType::kFile, /*secret=*/true));
  TRY(check_if_present(root / "keys/site-signing.key", EntryType::kFile, /*secret=*/true));
  for (const char* d : {"keys", "keys/apt", "staging", "deployments"}) {
    TRY(check_if_present(root / d, EntryType::kDirectory));
  }
  for (std::string_view d : k_target_names) {
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
    TRY(keys::generate_signing_key_pair(root / "keys" / "site-signing.key", root / "keys" / "site-signing.pub"));
  }
  TRY(fs::make_dirs(root / "staging", 0755));
  TRY(fs::make_dirs(root / "deployments", 0755));
  ASSIGN_OR_RETURN(auto ledger, Ledger::create(root / "ledger.db"));
  auto site = std::unique_ptr<Site>(new Site(root, std::move(ledger), os));
  ASSIGN_OR_RETURN(format::SiteKey key, site->site_key());
  ASSIGN_OR_RETURN(format::Signer signing, site->site_signing_key());
  TRY(site->log("init", "site", "ok", fmt::format("site key {}, site signing key {}", key.keyid, signing.keyid)));
  return site;
}

Result<format::SiteKey> Site::site_key() const { return keys::load_site_key(keys_dir()); }

Result<format::Signer> Site::site_signing_key(bool* created) {
  if (created != nullptr) {
    *created = false;
  }
  const stdfs::path key_path = site_signing_key_path();
  const stdfs::path pub_path = site_signing_pub_path();
  auto key_stat = fs::lstat_entry(key_path);
  auto pub_stat = fs::lstat_entry(pub_path);
  const auto absent = [](const Result<struct ::stat>& st) {
    return !st && st.error().code() == ErrorCode::kNotFound;
  };
  if (absent(key_stat) && absent(pub_stat)) {
    // A root from before site signing keys: its first one, made as init makes it.
    fs::ScopedUmask keys_umask(077);
    ASSIGN_OR_RETURN(keys::PublicKey made, keys::generate_signing_key_pair(key_path, pub_path));
    TRY(log("site-signing-key", "site", "ok",
            fmt::format("made site signing key {} ({}; it signs have-lists)", made.keyid, pub_path.string())));
    if (created != nullptr) {
      *created = true;
    }
  } else if (absent(key_stat) || absent(pub_stat)) {
    const stdfs::path& missing = absent(key_stat) ? key_path : pub_path;
    const stdfs::path& there = absent(key_stat) ? pub_path : key_path;
    return make_error(ErrorCode::kInvalidArgument,
                      "{} is missing but {} is there; restore it from a backup (or remove both for a new key, "
                      "whose .pub the connected side must then be given again)",
                      missing.string(), there.string());
  }
  ASSIGN_OR_RETURN(format::Signer signer, keys::load_signing_key(key_path));
  ASSIGN_OR_RETURN(keys::PublicKey pub, keys::load_public_key(pub_path));
  if (pub.keyid != signer.keyid) {
    return make_error(ErrorCode::kInvalidArgument, "{} (key {}) is not the public half of {} (key {})",
                      pub_path.string(), pub.keyid, key_path.string(), signer.keyid);
  }
  return signer;
}

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

}  // namespace airlock::installer
