#include "installer/layout.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/fs/file.h"

namespace airlock::installer::layout {

namespace stdfs = std::filesystem;

namespace {

constexpr std::uint64_t k_max_compared_bytes = 64 << 20;

}  // namespace

Status make_dirs(const stdfs::path& dir) {
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: cannot create: {}", dir.string(), ec.message());
  }
  return ok_status();
}

Status remove_path(const stdfs::path& p) {
  std::error_code ec;
  auto st = stdfs::symlink_status(p, ec);
  if (ec || !stdfs::exists(st)) {
    return ok_status();
  }
  if (stdfs::is_directory(st)) {
    return fs::remove_tree(p);
  }
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
    return make_error(ErrorCode::kIOError, "{}: cannot remove: {}", p.string(), fs::errno_text(errno));
  }
  return ok_status();
}

Status link_file(const stdfs::path& src, const stdfs::path& dst) {
  struct stat a {}, b {};
  if (::stat(src.c_str(), &a) != 0) {
    return make_error(ErrorCode::kNotFound, "{}: {} (run 'airlock-installer check')", src.string(),
                      fs::errno_text(errno));
  }
  if (::lstat(dst.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
    return ok_status();
  }
  stdfs::path tmp = dst;
  tmp += ".tmp-link";
  (void)::unlink(tmp.c_str());
  if (::link(src.c_str(), tmp.c_str()) != 0) {
    if (errno != EXDEV && errno != EPERM) {
      return make_error(ErrorCode::kIOError, "{}: cannot hardlink from {}: {}", dst.string(), src.string(),
                        fs::errno_text(errno));
    }
    std::error_code ec;
    stdfs::copy_file(src, tmp, stdfs::copy_options::overwrite_existing, ec);
    if (ec) {
      return make_error(ErrorCode::kIOError, "{}: cannot copy from {}: {}", dst.string(), src.string(), ec.message());
    }
    ::chmod(tmp.c_str(), 0444);
  }
  if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    const int err = errno;
    (void)::unlink(tmp.c_str());
    return make_error(ErrorCode::kIOError, "{}: cannot rename into place: {}", dst.string(), fs::errno_text(err));
  }
  return ok_status();
}

Status write_text(const stdfs::path& path, std::string_view text) {
  auto old = fs::read_text_file(path, k_max_compared_bytes);
  if (old && *old == text) {
    return ok_status();  // unchanged: keep the mtime tools may cache on
  }
  return fs::write_file_atomic(path, as_bytes(text), 0644);
}

}  // namespace airlock::installer::layout
