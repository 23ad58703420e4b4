#pragma once
// Requirements files as pip reads them in hash-checking mode (pip's
// req_file.py: '\' continuations, '#' comments, "name[extras]==version ;
// markers --hash=sha256:HEX …"), every requirement pinned and hashed: what
// the [[wheels]] source ships.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/error.h"

namespace airlock::bundler::py {

// PEP 503: re.sub(r"[-_.]+", "-", name).lower().
std::string normalize_name(std::string_view name);

struct Requirement {
  std::string name;        // as written
  std::string normalized;  // PEP 503
  std::vector<std::string> extras;
  std::string version;     // after "==" (or "===")
  std::string markers;     // after ';', kept verbatim (see parse_requirements)
  std::vector<std::pair<std::string, std::string>> hashes;  // (algorithm, lowercase hex), in file order
  std::size_t line = 0;    // 1-based line where the requirement starts

  std::string to_string() const;  // "name[x]==version"
};

// Parses a requirements file as pip does in hash-checking mode and refuses,
// naming FILE:LINE, what that mode refuses or what airlock cannot ship: a
// requirement without "==VERSION" (unpinned), without --hash, with a hash
// other than sha256/sha384/sha512, a URL or path requirement, a repeated
// name, and every option line (-r, -c, -e, --index-url, …): the index is the
// manifest's. "--require-hashes" alone is accepted (it is what this mode is).
// Environment markers do not filter here: every requirement ships, whatever
// its marker, because the target's Python is not known on this side; pip
// evaluates them on the target.
Result<std::vector<Requirement>> parse_requirements(std::string_view text, std::string_view file);

}  // namespace airlock::bundler::py
