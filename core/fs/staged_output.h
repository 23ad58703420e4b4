#pragma once
// Writing a set of files into a directory all or nothing (a bundle: its
// volumes, shipped installers, and last its index). The files are written
// into a private staging folder inside the output directory, then renamed
// into place, the file that marks the set complete last.
//
// Until commit() succeeds, the destructor undoes everything: the staging
// folder, the files already moved, and the folders begin() created (only
// when empty again: nothing of anyone else's is removed). So every path out
// of the caller, errors and early returns included, leaves no trace.
// Not thread-safe; one object per output.

#include <filesystem>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace airlock::fs {

class StagedOutput {
 public:
  // Creates out_dir (and any missing parents) and out_dir/staging_name.
  // kIOError naming the folder that cannot be created.
  static Result<StagedOutput> begin(const std::filesystem::path& out_dir, const std::string& staging_name);

  StagedOutput(StagedOutput&& other) noexcept;
  StagedOutput& operator=(StagedOutput&&) = delete;
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;
  ~StagedOutput();

  const std::filesystem::path& dir() const { return m_out_dir; }
  // Where the files are written before commit().
  const std::filesystem::path& staging() const { return m_staging; }

  // Renames each of `names` from staging() into dir(), then `last`, and
  // fsyncs dir(). A name may be a directory (create --media moves disc01/,
  // ...): it is moved whole, and removed whole if the commit fails. On an
  // error (kIOError naming the file) nothing moved stays and the destructor
  // still cleans up; called at most once.
  Status commit(const std::vector<std::string>& names, const std::string& last);

 private:
  StagedOutput() = default;
  void undo();

  std::filesystem::path m_out_dir;
  std::filesystem::path m_staging;
  std::vector<std::filesystem::path> m_made_dirs;  // deepest first
  std::vector<std::filesystem::path> m_moved;
  bool m_active = false;     // something to clean up
  bool m_complete = false;   // commit() succeeded
};

}  // namespace airlock::fs
