#include "core/fs/dir.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/fs/file.h"
#include "core/fs/users.h"

namespace airlock::fs {

namespace {

std::mutex g_roots_mutex;
std::vector<stdfs::path> g_roots;  // absolute, lexically normal

std::unexpected<Error> os_error(const stdfs::path& path, std::string_view what, int err) {
  ErrorCode code = err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIOError;
  return std::unexpected(Error(code, fmt::format("{}: {}: {}", path.string(), what, errno_text(err))));
}

// Absolute and lexically normal, without a trailing separator.
stdfs::path normal_path(const stdfs::path& p) {
  std::error_code ec;
  stdfs::path a = stdfs::absolute(p.empty() ? stdfs::path(".") : p, ec);
  if (ec) {
    a = p;
  }
  a = a.lexically_normal();
  if (!a.has_filename() && a != a.root_path()) {
    a = a.parent_path();
  }
  return a;
}

// The innermost confinement root holding p (empty when none).
stdfs::path root_of(const stdfs::path& p) {
  std::lock_guard<std::mutex> lock(g_roots_mutex);
  stdfs::path best;
  for (const stdfs::path& r : g_roots) {
    if (is_within(r, p) && r.string().size() > best.string().size()) {
      best = r;
    }
  }
  return best;
}

bool is_root(const stdfs::path& p) {
  std::lock_guard<std::mutex> lock(g_roots_mutex);
  return std::find(g_roots.begin(), g_roots.end(), p) != g_roots.end();
}

bool bad_name(const std::string& name) {
  return name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos;
}

std::string link_target(int dirfd, const std::string& name) {
  char buf[4096];
  const ssize_t n = ::readlinkat(dirfd, name.c_str(), buf, sizeof(buf) - 1);
  return n < 0 ? std::string("?") : std::string(buf, static_cast<std::size_t>(n));
}

std::unexpected<Error> symlink_refused(const stdfs::path& path, const std::string& target) {
  return std::unexpected(Error(
      ErrorCode::kInvalidArgument,
      fmt::format("{}: is a symlink (to {}); airlock never makes one there and does not follow links it did not "
                  "create: check where it points, then remove the link (rm {})",
                  path.string(), target, path.string())));
}

// Why openat(dirfd, name, O_NOFOLLOW|O_DIRECTORY) failed with ELOOP/ENOTDIR.
std::unexpected<Error> not_a_directory(int dirfd, const std::string& name, const stdfs::path& path) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return symlink_refused(path, link_target(dirfd, name));
  }
  return std::unexpected(
      Error(ErrorCode::kInvalidArgument, fmt::format("{}: is not a directory; remove or move it", path.string())));
}

// One component below dirfd, never through a symlink; created when asked.
Result<int> step(int dirfd, const std::string& name, const stdfs::path& path, bool create, std::uint32_t mode) {
  constexpr int k_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::openat(dirfd, name.c_str(), k_flags);
  if (fd >= 0) {
    return fd;
  }
  int err = errno;
  if (err == ENOENT && create) {
    if (::mkdirat(dirfd, name.c_str(), 0700) == 0) {
      fd = ::openat(dirfd, name.c_str(), k_flags);
      if (fd >= 0) {
        if (::fchmod(fd, mode) != 0) {  // exactly `mode`, whatever the umask
          err = errno;
          ::close(fd);
          return os_error(path, "cannot set mode", err);
        }
        return fd;
      }
      err = errno;
    } else if (errno == EEXIST) {
      fd = ::openat(dirfd, name.c_str(), k_flags);  // made by someone else meanwhile
      if (fd >= 0) {
        return fd;
      }
      err = errno;
    } else {
      return os_error(path, "cannot create", errno);
    }
  }
  if (err == ELOOP || err == ENOTDIR) {
    return not_a_directory(dirfd, name, path);
  }
  return os_error(path, "cannot open directory", err);
}

Status remove_at(int dirfd, const stdfs::path& dir_path, const std::string& name, dev_t dev) {
  const stdfs::path path = dir_path / name;
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return ok_status();
    }
    return os_error(path, "cannot stat", errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return os_error(path, "cannot remove", errno);
    }
    return ok_status();
  }
  if (st.st_dev != dev) {
    return make_error(ErrorCode::kIOError, "{}: is on another file system (a mount point); not removing across it: "
                      "unmount it first", path.string());
  }
  const int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return not_a_directory(dirfd, name, path);  // swapped for a link since the fstatat
    }
    return os_error(path, "cannot open directory", errno);
  }
  (void)::fchmod(fd, 0700);  // installed trees are read-only; their entries must go first
  {
    const Dir sub(fd, path);
    ASSIGN_OR_RETURN(std::vector<DirEntry> entries, sub.list());
    for (const DirEntry& e : entries) {
      TRY(remove_at(sub.fd(), path, e.name, dev));
    }
  }
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return os_error(path, "cannot remove", errno);
  }
  return ok_status();
}

Result<Dir> walk(const stdfs::path& dir, bool create, std::uint32_t mode) {
  const stdfs::path abs = normal_path(dir);
  const stdfs::path root = root_of(abs);
  if (root.empty()) {
    // Not ours: the path as given (a lexical ".." is not the kernel's when
    // the working directory was reached through a link).
    const stdfs::path given = dir.empty() ? stdfs::path(".") : dir;
    if (create) {
      std::error_code ec;
      stdfs::create_directories(given, ec);
      if (ec) {
        return make_error(ErrorCode::kIOError, "{}: cannot create: {}", given.string(), ec.message());
      }
    }
    const int fd = ::open(given.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return os_error(given, "cannot open directory", errno);
    }
    return Dir(fd, given);
  }
  // The root as given (the operator's choice, maybe a link); below it, no link is followed.
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return os_error(root, "cannot open directory", errno);
  }
  Dir cur(fd, root);
  for (const stdfs::path& comp : abs.lexically_relative(root)) {
    const std::string name = comp.string();
    if (name.empty() || name == ".") {
      continue;
    }
    const stdfs::path next = cur.path() / name;
    ASSIGN_OR_RETURN(int nfd, step(cur.fd(), name, next, create, mode));
    cur = Dir(nfd, next);
  }
  return cur;
}

}  // namespace

bool is_within(const stdfs::path& root, const stdfs::path& p) {
  auto q = p.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) {
      return false;
    }
  }
  return true;
}

void confine_below(const stdfs::path& dir) {
  stdfs::path p = normal_path(dir);
  std::lock_guard<std::mutex> lock(g_roots_mutex);
  if (std::find(g_roots.begin(), g_roots.end(), p) == g_roots.end()) {
    g_roots.push_back(std::move(p));
  }
}

Dir::~Dir() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Dir::Dir(Dir&& other) noexcept : m_fd(other.m_fd), m_path(std::move(other.m_path)) { other.m_fd = -1; }

Dir& Dir::operator=(Dir&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.m_fd;
    m_path = std::move(other.m_path);
    other.m_fd = -1;
  }
  return *this;
}

Result<Dir> Dir::open(const stdfs::path& dir) { return walk(dir, false, 0); }

Result<Dir> Dir::create(const stdfs::path& dir, std::uint32_t mode) { return walk(dir, true, mode); }

Result<std::vector<DirEntry>> Dir::list() const {
  const int fd = ::dup(m_fd);
  if (fd < 0) {
    return os_error(m_path, "cannot list", errno);
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    const int err = errno;
    ::close(fd);
    return os_error(m_path, "cannot list", err);
  }
  ::rewinddir(d);  // the offset is shared with m_fd: start from the top each time
  std::vector<DirEntry> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    DirEntry entry;
    entry.name = e->d_name;
    if (entry.name == "." || entry.name == "..") {
      continue;
    }
    unsigned char t = e->d_type;
    if (t == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(m_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        t = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
    }
    entry.type = t == DT_DIR   ? EntryType::kDirectory
                 : t == DT_LNK ? EntryType::kSymlink
                 : t == DT_REG ? EntryType::kFile
                               : EntryType::kOther;
    out.push_back(std::move(entry));
    errno = 0;
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) {
    return os_error(m_path, "cannot list", err);
  }
  return out;
}

Result<Dir> Dir::open_sub(const std::string& name) const {
  if (bad_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a file name", m_path.string(), name);
  }
  ASSIGN_OR_RETURN(int fd, step(m_fd, name, m_path / name, false, 0));
  return Dir(fd, m_path / name);
}

Status Dir::remove(const std::string& name) const {
  if (bad_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a file name", m_path.string(), name);
  }
  struct stat st {};
  if (::fstat(m_fd, &st) != 0) {
    return os_error(m_path, "cannot stat", errno);
  }
  return remove_at(m_fd, m_path, name, st.st_dev);
}

Result<ParentAndName> open_parent(const stdfs::path& path) {
  stdfs::path given = path;
  if (!given.has_filename() && given.has_parent_path()) {
    given = given.parent_path();  // "dir/" names dir
  }
  const std::string name = given.filename().string();
  if (bad_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a path to a file or directory entry", path.string());
  }
  ASSIGN_OR_RETURN(Dir dir, walk(given.parent_path(), false, 0));
  return ParentAndName{std::move(dir), name};
}

Status make_dirs(const stdfs::path& dir, std::uint32_t mode) {
  ASSIGN_OR_RETURN(Dir d, Dir::create(dir, mode));
  (void)d;
  return ok_status();
}

Status remove_entry(const stdfs::path& path) {
  auto parent = open_parent(path);
  if (!parent) {
    return parent.error().code() == ErrorCode::kNotFound ? ok_status() : Status(std::unexpected(parent.error()));
  }
  if (::unlinkat(parent->dir.fd(), parent->name.c_str(), 0) != 0 && errno != ENOENT) {
    return os_error(path, "cannot remove", errno);
  }
  return ok_status();
}

Status chmod_entry(const stdfs::path& path, std::uint32_t mode) {
  ASSIGN_OR_RETURN(ParentAndName p, open_parent(path));
  struct stat st {};
  if (::fstatat(p.dir.fd(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return os_error(path, "cannot stat", errno);
  }
  if (S_ISLNK(st.st_mode)) {
    return symlink_refused(path, link_target(p.dir.fd(), p.name));
  }
  // The name is one component in a directory reached without links, and not a
  // link itself: fchmodat cannot be diverted.
  if (::fchmodat(p.dir.fd(), p.name.c_str(), mode, 0) != 0) {
    return os_error(path, "chmod failed", errno);
  }
  return ok_status();
}

Status hardlink(const stdfs::path& from, const stdfs::path& to) {
  ASSIGN_OR_RETURN(ParentAndName src, open_parent(from));
  struct stat st {};
  if (::fstatat(src.dir.fd(), src.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return os_error(from, "cannot stat", errno);
  }
  if (!S_ISREG(st.st_mode)) {
    if (S_ISLNK(st.st_mode)) {
      return symlink_refused(from, link_target(src.dir.fd(), src.name));
    }
    return make_error(ErrorCode::kInvalidArgument, "{}: is not a regular file", from.string());
  }
  ASSIGN_OR_RETURN(ParentAndName dst, open_parent(to));
  if (::linkat(src.dir.fd(), src.name.c_str(), dst.dir.fd(), dst.name.c_str(), 0) != 0) {
    const int err = errno;
    const ErrorCode code = err == EXDEV || err == EPERM ? ErrorCode::kUnsupported
                           : err == ENOENT             ? ErrorCode::kNotFound
                                                       : ErrorCode::kIOError;
    return make_error(code, "{}: cannot hardlink from {}: {}", to.string(), from.string(), errno_text(err));
  }
  return ok_status();
}

Status rename_entry(const stdfs::path& from, const stdfs::path& to) {
  ASSIGN_OR_RETURN(ParentAndName src, open_parent(from));
  ASSIGN_OR_RETURN(ParentAndName dst, open_parent(to));
  if (::renameat(src.dir.fd(), src.name.c_str(), dst.dir.fd(), dst.name.c_str()) != 0) {
    return os_error(to, fmt::format("cannot rename {} to it", from.string()), errno);
  }
  return ok_status();
}

Result<struct ::stat> lstat_entry(const stdfs::path& path) {
  ASSIGN_OR_RETURN(ParentAndName p, open_parent(path));
  struct stat st {};
  if (::fstatat(p.dir.fd(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return os_error(path, "cannot stat", errno);
  }
  return st;
}

namespace {
std::string user_name(uid_t uid) {
  if (std::optional<std::string> name = lookup_user_name(uid)) {
    return fmt::format("{} (uid {})", *name, uid);
  }
  return fmt::format("uid {}", uid);
}
}  // namespace

Status check_private(const stdfs::path& path, EntryType type, bool secret) {
  struct stat st {};
  const stdfs::path abs = normal_path(path);
  if (is_root(abs)) {
    // The root itself is the operator's choice of path, a link included:
    // what it leads to is checked.
    if (::stat(path.c_str(), &st) != 0) {
      return os_error(path, "cannot stat", errno);
    }
  } else {
    ASSIGN_OR_RETURN(st, lstat_entry(path));
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      return symlink_refused(path, stdfs::read_symlink(path, ec).string());
    }
  }
  const bool want_dir = type == EntryType::kDirectory;
  if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: is not a {}; airlock made a {} here: move it away",
                      path.string(), want_dir ? "directory" : "regular file", want_dir ? "directory" : "file");
  }
  const uid_t me = ::geteuid();
  if (st.st_uid != me) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: owned by {}, not by {} who runs airlock-installer; another user could change what the "
                      "installer trusts or deletes: fix with 'chown {} {}' (or run as its owner)",
                      path.string(), user_name(st.st_uid), user_name(me), me, path.string());
  }
  if ((st.st_mode & 022) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: writable by group or others (mode {:04o}); another user could plant or change files "
                      "the installer acts on: fix with 'chmod go-w {}'",
                      path.string(), st.st_mode & 07777, path.string());
  }
  if (secret && (st.st_mode & 044) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: readable by group or others (mode {:04o}), and it is a secret key: fix with "
                      "'chmod go-rwx {}'",
                      path.string(), st.st_mode & 07777, path.string());
  }
  return ok_status();
}

ScopedUmask::ScopedUmask(std::uint32_t mask) : m_old(::umask(static_cast<mode_t>(mask))) {}

ScopedUmask::~ScopedUmask() { ::umask(static_cast<mode_t>(m_old)); }

}  // namespace airlock::fs
