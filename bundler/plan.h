#pragma once
// Turns a parsed manifest into the list of files a bundle ships: [model]
// files under "model/", [[files]] under their dest, each checked for links
// out of their source tree, filtered by include/exclude globs, and unique.

#include <vector>

#include "core/format/bundle_writer.h"
#include "core/manifest/manifest.h"

namespace airlock::bundler {

Result<std::vector<format::InputFile>> plan_inputs(const manifest::Manifest& manifest);

// fnmatch-style glob on a '/'-separated path; '*' also crosses '/', as the
// Hub's include/exclude patterns do.
bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace airlock::bundler
