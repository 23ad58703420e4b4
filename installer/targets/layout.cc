#include "installer/targets/layout.h"

#include <algorithm>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/fs/dir.h"
#include "core/fs/file.h"

namespace airlock::installer::layout {

namespace stdfs = std::filesystem;

namespace {

constexpr std::uint64_t k_max_compared_bytes = 64 << 20;

}  // namespace

// Every path here is below ROOT: the helpers of core/fs/dir.h open each
// directory component without following links, so a symlink planted at
// ROOT/hf, ROOT/images/blobs or anywhere below makes the rebuild fail naming
// it, instead of writing or deleting where it points.
Status make_dirs(const stdfs::path& dir) { return fs::make_dirs(dir, 0755); }

Status remove_path(const stdfs::path& p) { return fs::remove_tree(p); }

namespace {

// A copy of src (already lstat'ed as a regular file: `want`) at tmp, 0444.
Status copy_file(const stdfs::path& src, const struct stat& want, const stdfs::path& tmp) {
  ASSIGN_OR_RETURN(fs::File in, fs::File::open_read(src));
  struct stat got {};
  if (::fstat(in.fd(), &got) != 0 || got.st_ino != want.st_ino || got.st_dev != want.st_dev) {
    return make_error(ErrorCode::kIOError, "{}: changed while being copied; run 'airlock-installer check'",
                      src.string());
  }
  ASSIGN_OR_RETURN(fs::File out, fs::File::create_new(tmp, 0444));
  Bytes buffer(1 << 20);
  for (;;) {
    ASSIGN_OR_RETURN(std::size_t n, in.read_some(buffer));
    if (n == 0) {
      break;
    }
    TRY(out.write_all(ByteSpan(buffer.data(), n)));
  }
  return out.close();
}

}  // namespace

Status link_file(const stdfs::path& src, const stdfs::path& dst) {
  auto a = fs::lstat_entry(src);
  if (!a) {
    return make_error(a.error().code(), "{} (run 'airlock-installer check')", a.error().message());
  }
  if (!S_ISREG(a->st_mode)) {
    return make_error(ErrorCode::kCorruption, "{}: not a regular file any more (run 'airlock-installer check')",
                      src.string());
  }
  if (auto b = fs::lstat_entry(dst); b && a->st_ino == b->st_ino && a->st_dev == b->st_dev) {
    return ok_status();
  }
  stdfs::path tmp = dst;
  tmp += ".tmp-link";
  TRY(fs::remove_entry(tmp));
  Status linked = fs::hardlink(src, tmp);
  if (!linked) {
    if (linked.error().code() != ErrorCode::kUnsupported) {
      return linked;
    }
    Status copied = copy_file(src, *a, tmp);  // another file system: a copy
    if (!copied) {
      (void)fs::remove_entry(tmp);
      return copied;
    }
  }
  Status moved = fs::rename_entry(tmp, dst);
  if (!moved) {
    (void)fs::remove_entry(tmp);
    return make_error(ErrorCode::kIOError, "{}: cannot rename into place: {}", dst.string(), moved.error().message());
  }
  return ok_status();
}

namespace {

// NAME.tmp-<12 hex>: the temp file fs::write_file_atomic makes next to NAME.
bool own_temp_of(const std::string& entry, const std::string& name) {
  const std::string prefix = name + ".tmp-";
  if (entry.size() != prefix.size() + 12 || !entry.starts_with(prefix)) {
    return false;
  }
  return std::all_of(entry.begin() + static_cast<std::ptrdiff_t>(prefix.size()), entry.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Status write_text(const stdfs::path& path, std::string_view text) {
  // A temp file of an earlier write of this file that a crash left behind
  // goes first: tools reading the directory would take it for data.
  if (auto dir = fs::Dir::open(path.parent_path())) {
    ASSIGN_OR_RETURN(auto entries, dir->list());
    for (const fs::DirEntry& e : entries) {
      if (e.type == fs::EntryType::kFile && own_temp_of(e.name, path.filename().string())) {
        TRY(dir->remove(e.name));
      }
    }
  }
  auto old = fs::read_text_file(path, k_max_compared_bytes);
  if (old && *old == text) {
    return ok_status();  // unchanged: keep the mtime tools may cache on
  }
  return fs::write_file_atomic(path, as_bytes(text), 0644);
}

}  // namespace airlock::installer::layout
