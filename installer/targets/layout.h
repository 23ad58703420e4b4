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
// (No "remove everything else" helper: the install targets remove only the
// entries the ledger records as Airlock's; see targets.h.)

}  // namespace airlock::installer::layout
