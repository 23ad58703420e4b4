#include "tests/support/fault_file_system.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "core/fs/file.h"

namespace airlock::test {

namespace {

stdfs::path norm(const stdfs::path& p) { return p.lexically_normal(); }

bool is_under(const stdfs::path& p, const stdfs::path& base) {
  auto [b, q] = std::mismatch(base.begin(), base.end(), p.begin(), p.end());
  return b == base.end();
}

stdfs::path rebase(const stdfs::path& p, const stdfs::path& from, const stdfs::path& to) {
  stdfs::path out = to;
  auto it = p.begin();
  for (auto b = from.begin(); b != from.end(); ++b) {
    ++it;
  }
  for (; it != p.end(); ++it) {
    out /= *it;
  }
  return out;
}

Error io_error(const stdfs::path& path, const char* what, int err) {
  return Error(ErrorCode::kIOError, fmt::format("{}: {}: {}", path.string(), what, fs::errno_text(err)));
}

// Runs `fn` with the owner's write bit set on `dir`, then puts the mode back:
// the reboot's undo must reach into sealed (0555) directories.
template <typename Fn>
void with_writable(const stdfs::path& dir, Fn fn) {
  struct ::stat st {};
  const bool have = ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (have) {
    ::chmod(dir.c_str(), (st.st_mode & 07777) | S_IWUSR | S_IXUSR);
  }
  fn();
  if (have) {
    ::chmod(dir.c_str(), st.st_mode & 07777);
  }
}

}  // namespace

class FaultFileSystem::File final : public os::StagedFile {
 public:
  File(FaultFileSystem& owner, std::unique_ptr<os::StagedFile> base, stdfs::path path)
      : m_owner(owner), m_base(std::move(base)), m_path(std::move(path)) {}

  Status allocate(std::uint64_t size) override {
    TRY(m_owner.step(m_path));
    const std::uint64_t extra = size > m_reserved ? size - m_reserved : 0;
    TRY(m_owner.use_space(m_path, extra));
    TRY(m_base->allocate(size));
    m_reserved = std::max(m_reserved, size);
    return ok_status();
  }
  Status pwrite_all(ByteSpan data, std::uint64_t offset) override {
    TRY(m_owner.step(m_path));
    ++m_owner.m_writes;
    if (m_owner.m_fail_write && *m_owner.m_fail_write == m_owner.m_writes) {
      return std::unexpected(io_error(m_path, "write failed", EIO));
    }
    const std::uint64_t end = offset + data.size();
    const std::uint64_t have = std::max(m_reserved, m_end);
    TRY(m_owner.use_space(m_path, end > have ? end - have : 0));
    TRY(m_base->pwrite_all(data, offset));
    m_end = std::max(m_end, end);
    m_owner.record_write(m_path, offset, data.size());
    return ok_status();
  }
  Status pread_exact(std::span<std::uint8_t> out, std::uint64_t offset) override {
    TRY(m_owner.check_alive(m_path));
    return m_base->pread_exact(out, offset);
  }
  Status check_staged(std::uint64_t size) override {
    TRY(m_owner.check_alive(m_path));
    return m_base->check_staged(size);
  }
  void start_writeback(std::uint64_t offset, std::uint64_t len) override {
    if (!m_owner.m_crashed) {
      m_base->start_writeback(offset, len);  // a hint: nothing becomes durable by it
    }
  }

 private:
  FaultFileSystem& m_owner;
  std::unique_ptr<os::StagedFile> m_base;
  stdfs::path m_path;  // as opened; the pending writes follow later renames
  std::uint64_t m_reserved = 0;
  std::uint64_t m_end = 0;
};

Status FaultFileSystem::check_alive(const stdfs::path& path) const {
  if (m_crashed) {
    return std::unexpected(io_error(path, "simulated crash", EIO));
  }
  return ok_status();
}

Status FaultFileSystem::step(const stdfs::path& path) {
  TRY(check_alive(path));
  if (m_crash_after && m_calls >= *m_crash_after) {
    m_crashed = true;
    return check_alive(path);
  }
  ++m_calls;
  return ok_status();
}

Status FaultFileSystem::use_space(const stdfs::path& path, std::uint64_t bytes) {
  if (m_disk_limit && m_used + bytes > *m_disk_limit) {
    return std::unexpected(io_error(path, "cannot reserve space", ENOSPC));
  }
  m_used += bytes;
  return ok_status();
}

void FaultFileSystem::record(Kind kind, const stdfs::path& path, const stdfs::path& from) {
  m_pending.push_back(Pending{kind, norm(path), norm(from)});
}

void FaultFileSystem::record_write(const stdfs::path& path, std::uint64_t offset, std::uint64_t length) {
  Pending p{Kind::kWrite, norm(path)};
  p.offset = offset;
  p.length = length;
  // Follow the renames made since the file was opened.
  for (const Pending& r : m_pending) {
    if (r.kind == Kind::kRename && is_under(p.path, r.from)) {
      p.path = rebase(p.path, r.from, r.path);
    }
  }
  m_pending.push_back(std::move(p));
}

void FaultFileSystem::move_prefix(const stdfs::path& from, const stdfs::path& to, std::size_t before) {
  for (std::size_t i = 0; i < before; ++i) {
    Pending& p = m_pending[i];
    if (is_under(p.path, from)) {
      p.path = rebase(p.path, from, to);
    }
    if (p.kind == Kind::kRename && is_under(p.from, from)) {
      p.from = rebase(p.from, from, to);
    }
  }
}

Result<std::unique_ptr<os::StagedFile>> FaultFileSystem::create_new(const stdfs::path& path, std::uint32_t mode) {
  TRY(step(path));
  ASSIGN_OR_RETURN(std::unique_ptr<os::StagedFile> base, m_base.create_new(path, mode));
  record(Kind::kCreate, path);
  return std::unique_ptr<os::StagedFile>(new File(*this, std::move(base), norm(path)));
}

Result<std::unique_ptr<os::StagedFile>> FaultFileSystem::open_write(const stdfs::path& path) {
  TRY(check_alive(path));
  ASSIGN_OR_RETURN(std::unique_ptr<os::StagedFile> base, m_base.open_write(path));
  return std::unique_ptr<os::StagedFile>(new File(*this, std::move(base), norm(path)));
}

Status FaultFileSystem::make_dirs(const stdfs::path& dir, std::uint32_t mode) {
  TRY(step(dir));
  std::vector<stdfs::path> fresh;  // the levels this call creates, outermost first
  std::error_code ec;
  for (stdfs::path p = norm(dir); !p.empty() && p != p.parent_path(); p = p.parent_path()) {
    if (stdfs::exists(stdfs::symlink_status(p, ec))) {
      break;
    }
    fresh.insert(fresh.begin(), p);
  }
  TRY(m_base.make_dirs(dir, mode));
  for (const stdfs::path& p : fresh) {
    record(Kind::kMkdir, p);
  }
  return ok_status();
}

Status FaultFileSystem::sync_file_system(const stdfs::path& dir) {
  TRY(step(dir));
  TRY(m_base.sync_file_system(dir));
  for (Pending& p : m_pending) {
    p.durable = true;  // syncfs: every file and name on this file system
  }
  return ok_status();
}

Status FaultFileSystem::fsync_dir(const stdfs::path& dir) {
  TRY(step(dir));
  TRY(m_base.fsync_dir(dir));
  const stdfs::path d = norm(dir);
  for (Pending& p : m_pending) {
    if (p.kind != Kind::kWrite && p.path.parent_path() == d) {
      p.durable = true;  // the names in it; not the data of its files
    }
  }
  return ok_status();
}

Status FaultFileSystem::rename(const stdfs::path& from, const stdfs::path& to) {
  TRY(step(to));
  TRY(m_base.rename(from, to));
  move_prefix(norm(from), norm(to), m_pending.size());
  record(Kind::kRename, to, from);
  return ok_status();
}

Status FaultFileSystem::hardlink(const stdfs::path& from, const stdfs::path& to) {
  TRY(step(to));
  TRY(m_base.hardlink(from, to));
  record(Kind::kLink, to);
  return ok_status();
}

Status FaultFileSystem::chmod(const stdfs::path& path, std::uint32_t mode) {
  TRY(step(path));
  return m_base.chmod(path, mode);
}

Status FaultFileSystem::remove_tree(const stdfs::path& path) {
  TRY(step(path));
  TRY(m_base.remove_tree(path));
  const stdfs::path p = norm(path);
  // Gone for good (a removal is taken as durable): nothing there to undo.
  std::erase_if(m_pending, [&](const Pending& e) { return is_under(e.path, p); });
  return ok_status();
}

Status FaultFileSystem::replace_symlink(const stdfs::path& link, const std::string& target) {
  TRY(step(link));
  return m_base.replace_symlink(link, target);  // durable when it returns (it fsyncs the directory)
}

Status FaultFileSystem::drop_unsynced() {
  std::error_code ec;
  for (std::size_t i = m_pending.size(); i-- > 0;) {
    const Pending p = m_pending[i];
    if (p.durable) {
      continue;
    }
    switch (p.kind) {
      case Kind::kWrite: {
        struct ::stat st {};
        if (::lstat(p.path.c_str(), &st) != 0) {
          break;  // its name is gone too
        }
        ::chmod(p.path.c_str(), (st.st_mode & 07777) | S_IWUSR);
        const int fd = ::open(p.path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
          return std::unexpected(io_error(p.path, "drop_unsynced: cannot open", errno));
        }
        const Bytes zeros(p.length, 0);
        const ssize_t n = ::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(p.offset));
        ::close(fd);
        ::chmod(p.path.c_str(), st.st_mode & 07777);
        if (n != static_cast<ssize_t>(zeros.size())) {
          return std::unexpected(io_error(p.path, "drop_unsynced: cannot zero", errno));
        }
        break;
      }
      case Kind::kCreate:
      case Kind::kLink:
      case Kind::kMkdir:
        with_writable(p.path.parent_path(), [&] {
          if (p.kind == Kind::kMkdir) {
            for (auto it = stdfs::recursive_directory_iterator(p.path, ec); !ec && it != stdfs::recursive_directory_iterator();
                 it.increment(ec)) {
              stdfs::permissions(it->path(), stdfs::perms::owner_all,
                                 stdfs::perm_options::add | stdfs::perm_options::nofollow, ec);
            }
            stdfs::permissions(p.path, stdfs::perms::owner_all, stdfs::perm_options::add, ec);
            stdfs::remove_all(p.path, ec);
          } else {
            stdfs::remove(p.path, ec);
          }
        });
        break;
      case Kind::kRename:
        with_writable(p.path.parent_path(), [&] {
          with_writable(p.from.parent_path(), [&] { stdfs::rename(p.path, p.from, ec); });
        });
        if (ec) {
          return std::unexpected(io_error(p.path, "drop_unsynced: cannot undo rename", ec.value()));
        }
        move_prefix(p.path, p.from, i);
        break;
    }
  }
  m_pending.clear();
  m_crash_after.reset();
  m_fail_write.reset();
  m_disk_limit.reset();
  m_calls = 0;
  m_writes = 0;
  m_used = 0;
  m_crashed = false;
  return ok_status();
}

}  // namespace airlock::test
