#include "installer/commands/installed_files.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include "core/fs/file.h"

namespace airlock::installer {

std::string check_installed_file(const stdfs::path& path, const FileRecord& rec, Bytes& buffer) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return "missing";
  }
  if (!S_ISREG(st.st_mode)) {
    return "not a regular file";
  }
  if (static_cast<std::uint64_t>(st.st_size) != rec.size) {
    return fmt::format("size {} (ledger: {})", st.st_size, rec.size);
  }
  auto hashed = fs::sha256_file(path, buffer);
  if (!hashed) {
    return hashed.error().message();
  }
  const std::string& got = *hashed;
  if (got != rec.sha256) {
    return fmt::format("SHA-256 {} (ledger: {})", got, rec.sha256);
  }
  return {};
}

Result<std::vector<std::string>> check_installed_version(Site& site, const std::string& name,
                                                         const std::string& version, Bytes& buffer,
                                                         std::size_t& checked) {
  ASSIGN_OR_RETURN(auto files, site.ledger().files(name, version));
  std::vector<std::string> bad;
  for (const FileRecord& f : files) {
    const stdfs::path p = site.version_dir(name, version) / f.path;
    std::string problem = check_installed_file(p, f, buffer);
    ++checked;
    if (!problem.empty()) {
      bad.push_back(fmt::format("{}: {}", p.string(), problem));
    }
  }
  return bad;
}

}  // namespace airlock::installer
