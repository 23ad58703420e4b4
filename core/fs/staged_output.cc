#include "core/fs/staged_output.h"

#include <unistd.h>

#include "core/fs/file.h"

namespace airlock::fs {

namespace stdfs = std::filesystem;

Result<StagedOutput> StagedOutput::begin(const stdfs::path& out_dir, const std::string& staging_name) {
  StagedOutput out;
  out.m_out_dir = out_dir;
  std::error_code ec;
  for (stdfs::path p = stdfs::absolute(out_dir, ec).lexically_normal(); !p.empty() && !stdfs::exists(p, ec);
       p = p.parent_path()) {
    out.m_made_dirs.push_back(p);
    if (p == p.parent_path()) {
      break;
    }
  }
  out.m_active = true;  // from here on, the destructor removes what was made
  stdfs::create_directories(out_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: cannot create: {}", out_dir.string(), ec.message());
  }
  out.m_staging = out_dir / staging_name;
  stdfs::create_directory(out.m_staging, ec);
  if (ec) {
    stdfs::path staging = std::move(out.m_staging);
    out.m_staging.clear();  // not ours: never removed
    return make_error(ErrorCode::kIOError, "{}: cannot create: {}", staging.string(), ec.message());
  }
  return out;
}

StagedOutput::StagedOutput(StagedOutput&& other) noexcept
    : m_out_dir(std::move(other.m_out_dir)),
      m_staging(std::move(other.m_staging)),
      m_made_dirs(std::move(other.m_made_dirs)),
      m_moved(std::move(other.m_moved)),
      m_active(other.m_active),
      m_complete(other.m_complete) {
  other.m_active = false;
}

StagedOutput::~StagedOutput() { undo(); }

void StagedOutput::undo() {
  if (!m_active) {
    return;
  }
  m_active = false;
  if (!m_staging.empty()) {
    (void)remove_tree(m_staging);
  }
  if (m_complete) {
    return;
  }
  std::error_code ec;
  for (const stdfs::path& p : m_moved) {
    if (stdfs::is_directory(stdfs::symlink_status(p, ec))) {
      (void)remove_tree(p);  // a directory of the set (create --media: disc01/, ...)
    } else {
      stdfs::remove(p, ec);
    }
  }
  for (const stdfs::path& d : m_made_dirs) {  // deepest first; only empty ones go
    (void)::rmdir(d.c_str());
  }
}

Status StagedOutput::commit(const std::vector<std::string>& names, const std::string& last) {
  std::error_code ec;
  for (const std::string& name : names) {
    stdfs::rename(m_staging / name, m_out_dir / name, ec);
    if (ec) {
      return make_error(ErrorCode::kIOError, "{}: cannot move into place: {}", name, ec.message());
    }
    m_moved.push_back(m_out_dir / name);
  }
  stdfs::rename(m_staging / last, m_out_dir / last, ec);
  if (ec) {
    return make_error(ErrorCode::kIOError, "{}: cannot move into place: {}", last, ec.message());
  }
  m_complete = true;
  undo();  // the staging folder, now empty
  return fsync_dir(m_out_dir);
}

}  // namespace airlock::fs
