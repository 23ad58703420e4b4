#pragma once
// Installed files against the ledger (size and SHA-256), as `check` and
// `have --export` compare them.

#include <cstddef>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "installer/site/site.h"

namespace airlock::installer {

// Empty when the file at `path` is a regular file (not a link) of rec.size
// bytes whose SHA-256 is rec.sha256; else what is wrong with it ("missing",
// "size 10 (ledger: 20)", ...). `buffer` is the hashing buffer.
std::string check_installed_file(const stdfs::path& path, const FileRecord& rec, Bytes& buffer);

// Every file the ledger records for NAME/VERSION, checked: "PATH: problem"
// for each that does not match (none: the version is intact); `checked`
// grows by the number of files looked at.
Result<std::vector<std::string>> check_installed_version(Site& site, const std::string& name,
                                                         const std::string& version, Bytes& buffer,
                                                         std::size_t& checked);

}  // namespace airlock::installer
