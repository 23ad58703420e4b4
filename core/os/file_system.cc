#include "core/os/file_system.h"

#include <sys/stat.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "core/fs/dir.h"
#include "core/fs/file.h"

namespace airlock::os {

namespace {

static_assert(k_direct_align == fs::File::k_direct_align);

class PosixStagedFile final : public StagedFile {
 public:
  explicit PosixStagedFile(fs::File file) : m_file(std::move(file)) {}
  Status allocate(std::uint64_t size) override { return m_file.allocate(size); }
  Status pwrite_all(ByteSpan data, std::uint64_t offset) override { return m_file.pwrite_all(data, offset); }
  Status pwrite_direct(ByteSpan data, std::uint64_t offset) override { return m_file.pwrite_direct(data, offset); }
  Status pread_exact(std::span<std::uint8_t> out, std::uint64_t offset) override {
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
  fs::File m_file;
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
