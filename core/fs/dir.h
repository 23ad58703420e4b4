#pragma once
// Directories reached without following symlinks.
//
// A confinement root (confine_below(); the installer registers its ROOT) is a
// directory below which no path component is ever followed through a
// symlink: a path inside it is opened one component at a time from a
// descriptor on the root, each with openat(O_NOFOLLOW|O_DIRECTORY), so a
// symlink planted at ROOT/staging, ROOT/deployments/NAME or deeper makes the
// call fail, naming the link, instead of writing or deleting where it points.
// The root itself is opened as given (the operator chose it). Paths outside
// every confinement root have their parent directories opened as given; the
// last component is still never followed.
//
// Everything that creates, replaces or removes entries (Dir, make_dirs,
// remove_tree, remove_entry, chmod_entry, hardlink, rename_entry, and through
// them File::create_new, File::open_write, write_file_atomic and
// replace_symlink in file.h) goes through this walk. Symlinks are only ever
// created (symlinkat), read (readlink) and unlinked, never traversed.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/types.h>

#include "core/base/error.h"

namespace airlock::fs {

namespace stdfs = std::filesystem;

// Registers dir as a confinement root (see above); idempotent.
void confine_below(const stdfs::path& dir);

enum class EntryType { kFile, kDirectory, kSymlink, kOther };

struct DirEntry {
  std::string name;
  EntryType type = EntryType::kOther;
};

// An open directory (RAII descriptor) and its path, for messages.
class Dir {
 public:
  Dir() = default;
  // Adopts an open directory descriptor.
  Dir(int fd, stdfs::path path) : m_fd(fd), m_path(std::move(path)) {}
  ~Dir();
  Dir(Dir&& other) noexcept;
  Dir& operator=(Dir&& other) noexcept;
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;

  // Opens dir through the walk. kNotFound when a component is missing;
  // kInvalidArgument naming the component that is a symlink or not a directory.
  static Result<Dir> open(const stdfs::path& dir);
  // As open(), creating missing components with exactly `mode` (whatever the
  // umask); existing ones are left as they are.
  static Result<Dir> create(const stdfs::path& dir, std::uint32_t mode = 0755);

  int fd() const { return m_fd; }
  const stdfs::path& path() const { return m_path; }

  // The entries (not . and ..), unsorted; types from lstat (never followed).
  Result<std::vector<DirEntry>> list() const;
  // A child directory, O_NOFOLLOW (kInvalidArgument for a symlink).
  Result<Dir> open_sub(const std::string& name) const;
  // Removes the entry `name` (file, symlink or tree) without following any
  // symlink; read-only directories inside are made writable first; a missing
  // entry is fine. Refuses to descend into a directory on another device (a
  // mount point): nothing outside this file system is removed.
  Status remove(const std::string& name) const;

 private:
  int m_fd = -1;
  stdfs::path m_path;
};

// The directory holding `path` (opened through the walk) and path's last
// component; kInvalidArgument when path has no usable last component.
struct ParentAndName {
  Dir dir;
  std::string name;
};
Result<ParentAndName> open_parent(const stdfs::path& path);

// create_directories through the walk; new directories get exactly `mode`.
Status make_dirs(const stdfs::path& dir, std::uint32_t mode = 0755);
// Removes a file or symlink (never a directory, never a symlink's target);
// nothing there is fine.
Status remove_entry(const stdfs::path& path);
// chmod of a file or directory; refuses a symlink rather than changing its target.
Status chmod_entry(const stdfs::path& path, std::uint32_t mode);
// to becomes a new hardlink to the regular file from (not a symlink: refused).
// errno of a failed link(2) is in the message; EXDEV/EPERM are reported as
// kUnsupported so callers can fall back to a copy.
Status hardlink(const stdfs::path& from, const stdfs::path& to);
// rename(2) with both parents opened through the walk.
Status rename_entry(const stdfs::path& from, const stdfs::path& to);

// What lstat says of path, its parents reached through the walk; kNotFound
// when it is not there.
Result<struct ::stat> lstat_entry(const stdfs::path& path);

// Refuses (kInvalidArgument, naming the path and the fix) unless path is a
// `type` (a directory or regular file, not a symlink; the confinement root
// itself may be reached through one), owned by the effective user, and not
// writable by group or others; `secret` also refuses group/other read.
// kNotFound when it is not there.
Status check_private(const stdfs::path& path, EntryType type, bool secret = false);

// True when p is root or below it, compared component by component, as
// written (no normalising, no symlinks followed): callers pass canonical or
// lexically normal paths.
bool is_within(const stdfs::path& root, const stdfs::path& p);

// Sets the process umask for the lifetime of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(std::uint32_t mask);
  ~ScopedUmask();
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  std::uint32_t m_old;
};

}  // namespace airlock::fs
