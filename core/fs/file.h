#pragma once
// Files through file descriptors: RAII, exact reads, positioned I/O, fsync,
// and atomic replacement (temp file, fsync, rename, fsync the directory).
// Errors name the path and the errno text.

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <filesystem>
#include <span>
#include <string>
#include <utility>

#include "core/base/bytes.h"
#include "core/base/error.h"

namespace airlock::fs {

namespace stdfs = std::filesystem;

class File {
 public:
  File() = default;
  File(int fd, stdfs::path path) : m_fd(fd), m_path(std::move(path)) {}
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  static Result<File> open_read(const stdfs::path& path);
  // For files from the media (an index, a volume), which may be hostile:
  // opens to read a file that must be a regular file. The open itself is
  // O_NONBLOCK, so a FIFO cannot hang it; fstat decides, then the
  // descriptor is made blocking again. With Symlinks::kRefuse the last
  // component may not be a symbolic link either (O_NOFOLLOW). kNotFound when
  // absent; kInvalidArgument for a symlink or a non-regular file, naming
  // `path` only: never where a symlink points or what lies there.
  enum class Symlinks { kFollow, kRefuse };
  static Result<File> open_regular(const stdfs::path& path, Symlinks symlinks);
  // O_CREAT|O_EXCL|O_NOFOLLOW: never follows a planted symlink, never reuses a file.
  static Result<File> create_new(const stdfs::path& path, std::uint32_t mode = 0600);
  static Result<File> open_write(const stdfs::path& path);  // existing file, O_NOFOLLOW

  int fd() const { return m_fd; }
  const stdfs::path& path() const { return m_path; }

  // Reads up to out.size() bytes; returns how many (0 at end of file).
  Result<std::size_t> read_some(std::span<std::uint8_t> out);
  // Reads exactly out.size() bytes at `offset` (kCorruption on a short file).
  Status pread_exact(std::span<std::uint8_t> out, std::uint64_t offset);
  Status write_all(ByteSpan data);
  Status pwrite_all(ByteSpan data, std::uint64_t offset);
  // pwrite_all bypassing the page cache (O_DIRECT, switched on this
  // descriptor for the call and off again for any other read or write, so
  // the kernel keeps both coherent): `data.data()`, `data.size()` and
  // `offset` must be multiples of k_direct_align. Where the file system or
  // device refuses (EINVAL), the bytes are written through the cache, and so
  // are those of every later call; every other error is reported as
  // pwrite_all reports it. Durable only after sync(), like any write.
  static constexpr std::size_t k_direct_align = 4096;  // 512- and 4096-byte logical blocks
  Status pwrite_direct(ByteSpan data, std::uint64_t offset);
  // Reserves `size` bytes on disk now, so a full disk fails here, not midway.
  Status allocate(std::uint64_t size);
  Status sync();
  // Asks the kernel to start writing [offset, offset + len) back to disk now,
  // without waiting, so a later sync() has little left to do. A hint: where
  // the file system cannot, nothing happens.
  void start_writeback(std::uint64_t offset, std::uint64_t len);
  // Asks the kernel to start reading [offset, offset + len) into the page
  // cache without waiting (POSIX_FADV_WILLNEED): the reads are in flight
  // while we work on what we have. A hint, like start_writeback.
  void prefetch(std::uint64_t offset, std::uint64_t len);
  Result<std::uint64_t> size() const;
  Status close();

 private:
  Status write_loop(ByteSpan data, std::int64_t offset);
  Status set_direct(bool on);

  enum class Direct : std::uint8_t { kOff, kOn, kUnsupported };
  int m_fd = -1;
  stdfs::path m_path;
  Direct m_direct = Direct::kOff;
};

// A buffer for File::pwrite_direct: `size` bytes aligned to
// File::k_direct_align (kIOError when memory is short).
struct FreeAligned {
  void operator()(std::uint8_t* p) const { std::free(p); }
};
using DirectBuffer = std::unique_ptr<std::uint8_t, FreeAligned>;
Result<DirectBuffer> make_direct_buffer(std::size_t size);

// Whole small files (indexes, keys, manifests); kInvalidArgument past max_size.
Result<Bytes> read_file(const stdfs::path& path, std::uint64_t max_size);
Result<std::string> read_text_file(const stdfs::path& path, std::uint64_t max_size);

// The SHA-256 of a whole file, lowercase hex, read in BUFFER-sized pieces (the
// one-argument form uses a 1 MiB buffer of its own).
Result<std::string> sha256_file(const stdfs::path& path, Bytes& buffer);
Result<std::string> sha256_file(const stdfs::path& path);

// Path-based creators and removers reach the parent directory through the
// no-follow walk of core/fs/dir.h: below a confinement root (the installer's
// ROOT) no symlinked directory is ever followed, and the last component never is.

// Writes `data` to path atomically: path.tmp-XXXX, fsync, rename, fsync dir.
Status write_file_atomic(const stdfs::path& path, ByteSpan data, std::uint32_t mode = 0644);
Status fsync_dir(const stdfs::path& dir);
// Replaces `link` by a symlink to `target` atomically (symlink at a temp name, rename).
Status replace_symlink(const stdfs::path& link, const std::string& target);
// Removes a file, symlink or tree (a symlink is unlinked, never followed),
// making read-only directories writable first; nothing there is fine.
Status remove_tree(const stdfs::path& path);

// A fresh directory PARENT/PREFIXxxxxxx (mkdtemp), removed with remove_tree,
// whatever is in it, when the object goes away.
class TempDir {
 public:
  static Result<TempDir> create(const stdfs::path& parent, const std::string& prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const stdfs::path& path() const { return m_path; }

 private:
  explicit TempDir(stdfs::path path) : m_path(std::move(path)) {}
  stdfs::path m_path;
};

std::string errno_text(int err);

}  // namespace airlock::fs
