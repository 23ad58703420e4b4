#pragma once
// Lists a source tree for bundling, refusing anything that could smuggle
// bytes from outside it: symlinks that resolve outside the root, devices,
// FIFOs and sockets. Symlinks that stay inside are followed (their target's
// bytes ship as a regular file).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace airlock::fs {

struct SourceFile {
  std::filesystem::path source;  // absolute path to read
  std::string rel_path;          // '/'-separated, relative to the root
  std::uint64_t size = 0;
  std::uint32_t mode = 0644;     // 0755 when any execute bit is set, else 0644
};

// Regular files under root (or root itself when it is a file: rel_path is its
// file name), sorted by rel_path. kNotFound if root does not exist;
// kInvalidArgument naming the entry for a link out of the tree or a special file.
Result<std::vector<SourceFile>> list_source_tree(const std::filesystem::path& root);

}  // namespace airlock::fs
