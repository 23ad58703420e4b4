#pragma once
// Decompressing the indexes apt mirrors serve (Packages.xz, .gz, .bz2,
// .zst): the one place libarchive is used. Part of `airlock_decompress`,
// which only the bundler links: the installer reads no compressed index
// and links no libarchive (tests/e2e/ldd_installer.sh checks).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/error.h"

namespace airlock::archive {

// The bytes `data` decompresses to (xz, gzip, bzip2, zstd, or data already
// plain: libarchive's raw format with every filter). Refuses more than
// `limit` bytes of output. Errors are kCorruption and start with `what`.
Result<std::string> decompress(std::string_view data, std::uint64_t limit, std::string_view what);

}  // namespace airlock::archive
