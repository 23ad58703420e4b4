#include "core/fs/tree.h"

#include <algorithm>
#include <sys/stat.h>

#include "core/fs/dir.h"

namespace airlock::fs {

namespace stdfs = std::filesystem;

namespace {

Result<SourceFile> describe(const stdfs::path& root_real, const stdfs::path& entry, std::string rel) {
  std::error_code ec;
  stdfs::path target = entry;
  if (stdfs::is_symlink(stdfs::symlink_status(entry, ec))) {
    target = stdfs::weakly_canonical(entry, ec);
    if (ec || !is_within(root_real, target)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: symlink points outside the source directory (to {})", entry.string(),
                        stdfs::read_symlink(entry, ec).string());
    }
  }
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) {
    return make_error(ErrorCode::kNotFound, "{}: cannot stat (dangling symlink?)", entry.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a regular file (device, FIFO or socket)",
                      entry.string());
  }
  SourceFile f;
  f.source = target;
  f.rel_path = std::move(rel);
  f.size = static_cast<std::uint64_t>(st.st_size);
  f.mode = (st.st_mode & 0111) != 0 ? 0755 : 0644;
  return f;
}

}  // namespace

Result<std::vector<SourceFile>> list_source_tree(const stdfs::path& root) {
  std::error_code ec;
  auto st = stdfs::status(root, ec);
  if (ec || !stdfs::exists(st)) {
    return make_error(ErrorCode::kNotFound, "{}: no such file or directory", root.string());
  }
  stdfs::path root_real = stdfs::canonical(root, ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: {}", root.string(), ec.message());
  }
  std::vector<SourceFile> out;
  if (!stdfs::is_directory(st)) {
    ASSIGN_OR_RETURN(SourceFile f, describe(root_real.parent_path(), root, root.filename().string()));
    out.push_back(std::move(f));
    return out;
  }
  // Iterate without following directory symlinks: a linked directory is
  // checked like a linked file, and refused if it leaves the tree.
  for (auto it = stdfs::recursive_directory_iterator(root_real, ec); it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) {
      return make_error(ErrorCode::kIOError, "{}: {}", root.string(), ec.message());
    }
    const stdfs::path& p = it->path();
    std::string rel = p.lexically_relative(root_real).generic_string();
    auto lst = it->symlink_status(ec);
    if (stdfs::is_directory(lst)) {
      continue;
    }
    if (stdfs::is_symlink(lst) && stdfs::is_directory(stdfs::status(p, ec))) {
      stdfs::path t = stdfs::weakly_canonical(p, ec);
      if (!is_within(root_real, t)) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: symlink points outside the source directory (to {})", p.string(),
                          stdfs::read_symlink(p, ec).string());
      }
      continue;  // its files are listed under their real location inside the tree
    }
    ASSIGN_OR_RETURN(SourceFile f, describe(root_real, p, std::move(rel)));
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const SourceFile& a, const SourceFile& b) { return a.rel_path < b.rel_path; });
  return out;
}

}  // namespace airlock::fs
