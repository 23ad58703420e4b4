#pragma once
// The file-system calls of the install transaction, as a seam (leveldb's
// Env, ninja's DiskInterface): the stager (installer/install/stager.h)
// creates, reserves, writes and reads back the staged files and makes them
// durable; install (installer/install/install.cc) links, seals, renames into
// place and switches `current`. Only those calls are here; everything else
// (reading keys, the ledger's SQLite, the targets) uses core/fs directly.
//
// PosixFileSystem is core/fs (no link below ROOT followed, errors naming
// the path and errno). tests/support/fault_file_system.h wraps it to drop
// unsynced data on a simulated crash, fail the Nth write or fill the disk.
//
// Durability is explicit, as on a real disk: data written to a StagedFile
// is durable after sync_file_system(); a new name (file, directory, link,
// rename) is durable after fsync_dir() of the directory that holds it or
// sync_file_system(); replace_symlink() is durable when it returns.
// One FileSystem may be used from one thread at a time.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "core/base/bytes.h"
#include "core/base/error.h"

namespace airlock::os {

namespace stdfs = std::filesystem;

// An open staged file: positioned writes and reads, nothing shared.
// The alignment pwrite_direct needs (fs::File::k_direct_align).
inline constexpr std::size_t k_direct_align = 4096;

class StagedFile {
 public:
  virtual ~StagedFile() = default;
  // Reserves `size` bytes on disk now, so a full disk fails here, not midway.
  virtual Status allocate(std::uint64_t size) = 0;
  virtual Status pwrite_all(ByteSpan data, std::uint64_t offset) = 0;
  // The same, bypassing the page cache (O_DIRECT) where the file system
  // allows it: `data.data()`, `data.size()` and `offset` are multiples of
  // k_direct_align. Where it does not (EINVAL), the bytes are written as
  // pwrite_all would, and so is every later call. Every other error is
  // reported as pwrite_all's are.
  virtual Status pwrite_direct(ByteSpan data, std::uint64_t offset) { return pwrite_all(data, offset); }
  // Exactly out.size() bytes at `offset` (kCorruption on a short file).
  virtual Status pread_exact(std::span<std::uint8_t> out, std::uint64_t offset) = 0;
  // A hint to start writing [offset, offset + len) back now (core/fs/file.h).
  virtual void start_writeback(std::uint64_t offset, std::uint64_t len) = 0;
  // A file a previous run staged, before it is written again (a resumed
  // install): kCorruption unless it is a regular file with one link (no
  // hardlink to a file elsewhere) and exactly `size` bytes long.
  virtual Status check_staged(std::uint64_t size) = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // O_CREAT|O_EXCL|O_NOFOLLOW, `mode`: never reuses a file or follows a link.
  virtual Result<std::unique_ptr<StagedFile>> create_new(const stdfs::path& path, std::uint32_t mode) = 0;
  // An existing regular file, for writing and reading (O_NOFOLLOW).
  virtual Result<std::unique_ptr<StagedFile>> open_write(const stdfs::path& path) = 0;
  virtual Status make_dirs(const stdfs::path& dir, std::uint32_t mode) = 0;
  // syncfs(2) on the file system holding `dir`: every file's data and every
  // name on it is durable afterwards.
  virtual Status sync_file_system(const stdfs::path& dir) = 0;
  virtual Status fsync_dir(const stdfs::path& dir) = 0;
  virtual Status rename(const stdfs::path& from, const stdfs::path& to) = 0;
  virtual Status hardlink(const stdfs::path& from, const stdfs::path& to) = 0;
  virtual Status chmod(const stdfs::path& path, std::uint32_t mode) = 0;
  // A file, symlink or tree (read-only parts too); nothing there is fine.
  virtual Status remove_tree(const stdfs::path& path) = 0;
  // `link` becomes a symlink to `target` atomically and durably.
  virtual Status replace_symlink(const stdfs::path& link, const std::string& target) = 0;
};

// core/fs/file.h and core/fs/dir.h.
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<StagedFile>> create_new(const stdfs::path& path, std::uint32_t mode) override;
  Result<std::unique_ptr<StagedFile>> open_write(const stdfs::path& path) override;
  Status make_dirs(const stdfs::path& dir, std::uint32_t mode) override;
  Status sync_file_system(const stdfs::path& dir) override;
  Status fsync_dir(const stdfs::path& dir) override;
  Status rename(const stdfs::path& from, const stdfs::path& to) override;
  Status hardlink(const stdfs::path& from, const stdfs::path& to) override;
  Status chmod(const stdfs::path& path, std::uint32_t mode) override;
  Status remove_tree(const stdfs::path& path) override;
  Status replace_symlink(const stdfs::path& link, const std::string& target) override;
};

}  // namespace airlock::os
