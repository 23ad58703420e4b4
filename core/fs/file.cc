#include "core/fs/file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto/sha256.h"
#include "core/crypto/sodium.h"
#include "core/fs/dir.h"

namespace airlock::fs {

std::string errno_text(int err) { return std::strerror(err); }

namespace {
std::unexpected<Error> io_error(const stdfs::path& path, std::string_view what, int err) {
  ErrorCode code = err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIOError;
  return std::unexpected(Error(code, fmt::format("{}: {}: {}", path.string(), what, errno_text(err))));
}
}  // namespace

File::~File() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

File::File(File&& other) noexcept : m_fd(other.m_fd), m_path(std::move(other.m_path)), m_direct(other.m_direct) {
  other.m_fd = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.m_fd;
    m_path = std::move(other.m_path);
    m_direct = other.m_direct;
    other.m_fd = -1;
  }
  return *this;
}

Result<File> File::open_read(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return io_error(path, "cannot open", errno);
  }
  return File(fd, path);
}

Result<File> File::open_regular(const stdfs::path& path, Symlinks symlinks) {
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (symlinks == Symlinks::kRefuse ? O_NOFOLLOW : 0);
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP && symlinks == Symlinks::kRefuse) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: is a symbolic link; only regular files are read from a bundle (copy the file itself)",
                        path.string());
    }
    return io_error(path, "cannot open", err);
  }
  File file(fd, path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return io_error(path, "stat failed", errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: is not a regular file (a FIFO, device, socket or directory); copy the file itself",
                      path.string());
  }
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
    return io_error(path, "fcntl failed", errno);
  }
  return file;
}

Result<File> File::create_new(const stdfs::path& path, std::uint32_t mode) {
  ASSIGN_OR_RETURN(ParentAndName p, open_parent(path));
  int fd = ::openat(p.dir.fd(), p.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    return io_error(path, "cannot create", errno);
  }
  return File(fd, path);
}

Result<File> File::open_write(const stdfs::path& path) {
  ASSIGN_OR_RETURN(ParentAndName p, open_parent(path));
  int fd = ::openat(p.dir.fd(), p.name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return io_error(path, "cannot open for writing", errno);
  }
  return File(fd, path);
}

Result<std::size_t> File::read_some(std::span<std::uint8_t> out) {
  for (;;) {
    ssize_t n = ::read(m_fd, out.data(), out.size());
    if (n >= 0) {
      return static_cast<std::size_t>(n);
    }
    if (errno != EINTR) {
      return io_error(m_path, "read failed", errno);
    }
  }
}

Status File::pread_exact(std::span<std::uint8_t> out, std::uint64_t offset) {
  TRY(set_direct(false));
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(m_fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io_error(m_path, "read failed", errno);
    }
    if (n == 0) {
      return make_error(ErrorCode::kCorruption, "{}: file is shorter than expected (ends at {})",
                        m_path.string(), offset + done);
    }
    done += static_cast<std::size_t>(n);
  }
  return ok_status();
}

// Writes all of `data`, at `offset` (pwrite) or at the file position (write
// when offset is negative), retrying short writes and EINTR.
Status File::write_loop(ByteSpan data, std::int64_t offset) {
  TRY(set_direct(false));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = offset < 0 ? ::write(m_fd, data.data() + done, data.size() - done)
                           : ::pwrite(m_fd, data.data() + done, data.size() - done,
                                      static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io_error(m_path, "write failed", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return ok_status();
}

Status File::write_all(ByteSpan data) { return write_loop(data, -1); }

Status File::pwrite_all(ByteSpan data, std::uint64_t offset) {
  return write_loop(data, static_cast<std::int64_t>(offset));
}

Status File::set_direct(bool on) {
  if ((m_direct == Direct::kOn) == on || (on && m_direct == Direct::kUnsupported)) {
    return ok_status();
  }
  const int flags = ::fcntl(m_fd, F_GETFL);
  if (flags >= 0 && ::fcntl(m_fd, F_SETFL, on ? (flags | O_DIRECT) : (flags & ~O_DIRECT)) == 0) {
    m_direct = on ? Direct::kOn : Direct::kOff;
    return ok_status();
  }
  if (on) {
    m_direct = Direct::kUnsupported;  // e.g. a file system without direct I/O
    return ok_status();
  }
  return io_error(m_path, "cannot switch O_DIRECT off", errno);
}

Status File::pwrite_direct(ByteSpan data, std::uint64_t offset) {
  TRY(set_direct(true));
  while (m_direct == Direct::kOn && !data.empty()) {
    const ssize_t n = ::pwrite(m_fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EINVAL) {
      m_direct = Direct::kUnsupported;  // refused for this file: through the cache from now on
      break;
    }
    if (n < 0) {
      return io_error(m_path, "write failed", errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
    if (static_cast<std::size_t>(n) % k_direct_align != 0) {
      break;  // a short write off the alignment: the rest through the cache
    }
  }
  if (data.empty()) {
    return ok_status();
  }
  return pwrite_all(data, offset);
}

Result<DirectBuffer> make_direct_buffer(std::size_t size) {
  DirectBuffer b(static_cast<std::uint8_t*>(std::aligned_alloc(File::k_direct_align, size)));
  if (!b) {
    return make_error(ErrorCode::kIOError, "cannot allocate a {}-byte write buffer", size);
  }
  return b;
}

Status File::allocate(std::uint64_t size) {
  if (size == 0) {
    return ok_status();
  }
  int err = ::posix_fallocate(m_fd, 0, static_cast<off_t>(size));
  if (err != 0) {
    return io_error(m_path, fmt::format("cannot reserve {} bytes", size), err);
  }
  return ok_status();
}

Status File::sync() {
  if (::fsync(m_fd) != 0) {
    return io_error(m_path, "fsync failed", errno);
  }
  return ok_status();
}

void File::start_writeback(std::uint64_t offset, std::uint64_t len) {
#if defined(__linux__)
  // Errors are of no consequence: sync() later reports any that matter.
  (void)::sync_file_range(m_fd, static_cast<off64_t>(offset), static_cast<off64_t>(len),
                          SYNC_FILE_RANGE_WRITE);
#else
  (void)offset;
  (void)len;
#endif
}

void File::prefetch(std::uint64_t offset, std::uint64_t len) {
  (void)::posix_fadvise(m_fd, static_cast<off_t>(offset), static_cast<off_t>(len), POSIX_FADV_WILLNEED);
}

Result<std::uint64_t> File::size() const {
  struct stat st {};
  if (::fstat(m_fd, &st) != 0) {
    return io_error(m_path, "stat failed", errno);
  }
  return static_cast<std::uint64_t>(st.st_size);
}

Status File::close() {
  if (m_fd >= 0) {
    int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0) {
      return io_error(m_path, "close failed", errno);
    }
  }
  return ok_status();
}

Result<Bytes> read_file(const stdfs::path& path, std::uint64_t max_size) {
  ASSIGN_OR_RETURN(File file, File::open_read(path));
  ASSIGN_OR_RETURN(std::uint64_t size, file.size());
  if (size > max_size) {
    return make_error(ErrorCode::kInvalidArgument, "{}: too large ({} bytes; at most {})", path.string(),
                      size, max_size);
  }
  Bytes data(size);
  TRY(file.pread_exact(data, 0));
  return data;
}

Result<std::string> read_text_file(const stdfs::path& path, std::uint64_t max_size) {
  ASSIGN_OR_RETURN(Bytes data, read_file(path, max_size));
  return std::string(data.begin(), data.end());
}

Status fsync_dir(const stdfs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return io_error(dir, "cannot open directory", errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return io_error(dir, "fsync failed", err);
  }
  return ok_status();
}

namespace {
std::string temp_suffix() {
  std::array<std::uint8_t, 6> r{};
  crypto::random_bytes(r);
  return ".tmp-" + to_hex(r);
}
}  // namespace

Status write_file_atomic(const stdfs::path& path, ByteSpan data, std::uint32_t mode) {
  ASSIGN_OR_RETURN(ParentAndName p, open_parent(path));
  const std::string tmp = p.name + temp_suffix();
  stdfs::path tmp_path = path;
  tmp_path += tmp.substr(p.name.size());
  {
    const int fd = ::openat(p.dir.fd(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
      return io_error(tmp_path, "cannot create", errno);
    }
    File file(fd, tmp_path);
    Status st = file.write_all(data);
    if (st) {
      st = file.sync();
    }
    if (!st) {
      ::unlinkat(p.dir.fd(), tmp.c_str(), 0);
      return st;
    }
  }
  if (::renameat(p.dir.fd(), tmp.c_str(), p.dir.fd(), p.name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(p.dir.fd(), tmp.c_str(), 0);
    return io_error(path, "rename failed", err);
  }
  if (::fsync(p.dir.fd()) != 0) {
    return io_error(p.dir.path(), "fsync failed", errno);
  }
  return ok_status();
}

Status replace_symlink(const stdfs::path& link, const std::string& target) {
  ASSIGN_OR_RETURN(ParentAndName p, open_parent(link));
  const std::string tmp = p.name + temp_suffix();
  stdfs::path tmp_path = link;
  tmp_path += tmp.substr(p.name.size());
  if (::symlinkat(target.c_str(), p.dir.fd(), tmp.c_str()) != 0) {
    return io_error(tmp_path, "cannot create symlink", errno);
  }
  if (::renameat(p.dir.fd(), tmp.c_str(), p.dir.fd(), p.name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(p.dir.fd(), tmp.c_str(), 0);
    return io_error(link, "rename failed", err);
  }
  if (::fsync(p.dir.fd()) != 0) {
    return io_error(p.dir.path(), "fsync failed", errno);
  }
  return ok_status();
}

Status remove_tree(const stdfs::path& path) {
  auto p = open_parent(path);
  if (!p) {
    if (p.error().code() == ErrorCode::kNotFound) {
      return ok_status();  // nothing there
    }
    return std::unexpected(p.error());
  }
  return p->dir.remove(p->name);
}

Result<std::string> sha256_file(const stdfs::path& path, Bytes& buffer) {
  ASSIGN_OR_RETURN(File file, File::open_read(path));
  crypto::Sha256 h;
  for (;;) {
    ASSIGN_OR_RETURN(std::size_t n, file.read_some(buffer));
    if (n == 0) {
      break;
    }
    h.update(ByteSpan(buffer.data(), n));
  }
  return to_hex(h.finish());
}

Result<std::string> sha256_file(const stdfs::path& path) {
  Bytes buffer(1u << 20);
  return sha256_file(path, buffer);
}

Result<TempDir> TempDir::create(const stdfs::path& parent, const std::string& prefix) {
  std::string pattern = (parent / (prefix + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return make_error(ErrorCode::kIOError, "{}: cannot create: {}", pattern, errno_text(errno));
  }
  return TempDir(pattern);
}

TempDir::TempDir(TempDir&& other) noexcept : m_path(std::exchange(other.m_path, {})) {}

TempDir::~TempDir() {
  if (!m_path.empty()) {
    (void)remove_tree(m_path);
  }
}

}  // namespace airlock::fs
