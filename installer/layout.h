#pragma once
// File operations the install targets (targets.h) and publish build their
// layouts with: idempotent, atomic where a reader may look, and hardlinking
// the read-only installed files instead of copying them.

#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "core/base/error.h"

namespace airlock::installer::layout {

Status make_dirs(const std::filesystem::path& dir);
// Removes a file, symlink or tree; nothing there is fine.
Status remove_path(const std::filesystem::path& p);
// dst becomes a hardlink to src (a copy across file systems), atomically;
// nothing is done when it already is one.
Status link_file(const std::filesystem::path& src, const std::filesystem::path& dst);
// Atomic write, skipped when the file already holds exactly `text`.
Status write_text(const std::filesystem::path& path, std::string_view text);
// Removes every entry of dir whose name is not in keep (and not a dot-file
// of huggingface_hub's own, like .no_exist or .locks).
Status prune_dir(const std::filesystem::path& dir, const std::set<std::string>& keep);

}  // namespace airlock::installer::layout
