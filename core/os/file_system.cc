#include "core/os/file_system.h"

#include <sys/stat.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "core/fs/dir.h"
#include "core/fs/file.h"

namespace airlock::os {

namespace {

class PosixStagedFile final : public StagedFile {
 public:
  explicit PosixStagedFile(fs::File file) : m_file(std::move(file)) {}
  Status allocate(std::uint64_t size) override { return m_file.allocate(size); }
  Status pwrite_all(ByteSpan data, std::uint64_t offset) override {
    TRY(set_direct(false));
    return m_file.pwrite_all(data, offset);
  }
  // O_DIRECT is switched on the open descriptor (fcntl F_SETFL), on for
  // these writes and off again for pwrite_all's: one descriptor, so the
  // kernel keeps the page cache and the direct writes coherent.
  Status pwrite_direct(ByteSpan data, std::uint64_t offset) override {
    if (m_direct != Direct::kUnsupported) {
      TRY(set_direct(true));
    }
    while (m_direct == Direct::kOn && !data.empty()) {
      const ssize_t n = ::pwrite(m_file.fd(), data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno == EINVAL) {
        m_direct = Direct::kUnsupported;  // this file system or device will not: write through the cache
        break;
      }
      if (n < 0) {
        return make_error(ErrorCode::kIOError, "{}: write failed: {}", m_file.path().string(), fs::errno_text(errno));
      }
      if (static_cast<std::size_t>(n) % k_direct_align != 0) {
        data = data.subspan(static_cast<std::size_t>(n));  // a short write off the alignment: the rest as usual
        offset += static_cast<std::uint64_t>(n);
        break;
      }
      data = data.subspan(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
    if (data.empty()) {
      return ok_status();
    }
    return pwrite_all(data, offset);
  }
  Status pread_exact(std::span<std::uint8_t> out, std::uint64_t offset) override {
    TRY(set_direct(false));
    return m_file.pread_exact(out, offset);
  }
  void start_writeback(std::uint64_t offset, std::uint64_t len) override { m_file.start_writeback(offset, len); }
  Status check_staged(std::uint64_t size) override {
    struct stat st {};
    if (::fstat(m_file.fd(), &st) != 0) {
      return make_error(ErrorCode::kIOError, "{}: cannot stat: {}", m_file.path().string(), fs::errno_text(errno));
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || static_cast<std::uint64_t>(st.st_size) != size) {
      return make_error(ErrorCode::kCorruption, "{}: not as staged (a regular file of one link and {} bytes)",
                        m_file.path().string(), size);
    }
    return ok_status();
  }

 private:
  enum class Direct : std::uint8_t { kOff, kOn, kUnsupported };
  Status set_direct(bool on) {
    if ((m_direct == Direct::kOn) == on || (on && m_direct == Direct::kUnsupported)) {
      return ok_status();
    }
    const int flags = ::fcntl(m_file.fd(), F_GETFL);
    if (flags >= 0 && ::fcntl(m_file.fd(), F_SETFL, on ? (flags | O_DIRECT) : (flags & ~O_DIRECT)) == 0) {
      m_direct = on ? Direct::kOn : Direct::kOff;
      return ok_status();
    }
    if (on) {
      m_direct = Direct::kUnsupported;
      return ok_status();
    }
    return make_error(ErrorCode::kIOError, "{}: cannot switch O_DIRECT off: {}", m_file.path().string(),
                      fs::errno_text(errno));
  }

  fs::File m_file;
  Direct m_direct = Direct::kOff;
};

}  // namespace

Result<std::unique_ptr<StagedFile>> PosixFileSystem::create_new(const stdfs::path& path, std::uint32_t mode) {
  ASSIGN_OR_RETURN(fs::File file, fs::File::create_new(path, mode));
  return std::make_unique<PosixStagedFile>(std::move(file));
}

Result<std::unique_ptr<StagedFile>> PosixFileSystem::open_write(const stdfs::path& path) {
  ASSIGN_OR_RETURN(fs::File file, fs::File::open_write(path));
  return std::make_unique<PosixStagedFile>(std::move(file));
}

Status PosixFileSystem::make_dirs(const stdfs::path& dir, std::uint32_t mode) { return fs::make_dirs(dir, mode); }

Status PosixFileSystem::sync_file_system(const stdfs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(ErrorCode::kIOError, "{}: cannot open: {}", dir.string(), fs::errno_text(errno));
  }
  int rc = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return make_error(ErrorCode::kIOError, "{}: syncfs failed: {}", dir.string(), fs::errno_text(err));
  }
  return ok_status();
}

Status PosixFileSystem::fsync_dir(const stdfs::path& dir) { return fs::fsync_dir(dir); }
Status PosixFileSystem::rename(const stdfs::path& from, const stdfs::path& to) { return fs::rename_entry(from, to); }
Status PosixFileSystem::hardlink(const stdfs::path& from, const stdfs::path& to) { return fs::hardlink(from, to); }
Status PosixFileSystem::chmod(const stdfs::path& path, std::uint32_t mode) { return fs::chmod_entry(path, mode); }
Status PosixFileSystem::remove_tree(const stdfs::path& path) { return fs::remove_tree(path); }
Status PosixFileSystem::replace_symlink(const stdfs::path& link, const std::string& target) {
  return fs::replace_symlink(link, target);
}

}  // namespace airlock::os
