#pragma once
// Python packaging formats the [[wheels]] source reads:
// - requirements files in pip's hash-checking mode (pip's req_file.py:
//   '\' continuations, '#' comments, "name[extras]==version ; markers
//   --hash=sha256:HEX …"), with every requirement pinned and hashed;
// - the simple repository API: PEP 503 HTML (anchors, "#sha256=…"
//   fragments) and PEP 691 JSON (application/vnd.pypi.simple.v1+json).

#include <cstdint>
#include <map>
#include <optional>
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

// One file on a project page of the simple API.
struct IndexFile {
  std::string filename;
  std::string url;  // absolute, fragment removed
  std::map<std::string, std::string> hashes;  // algorithm → lowercase hex
  std::optional<std::uint64_t> size;
  bool yanked = false;
};

std::string html_unescape(std::string_view text);

// PEP 503 HTML; hrefs resolve against page_url (or a <base href>).
Result<std::vector<IndexFile>> parse_simple_html(std::string_view html, const std::string& page_url);
// PEP 691 JSON (api-version 1.x); urls resolve against page_url.
Result<std::vector<IndexFile>> parse_simple_json(std::string_view json, const std::string& page_url);

// Whether a distribution file (wheel, PEP 427; sdist .tar.gz/.zip) is of this
// project and version (names compared normalized; versions by their PEP 440
// release segments and suffix, so "1.0" matches "1.0.0").
bool file_matches_requirement(std::string_view filename, const Requirement& req);
// A plain file name we are willing to write: no '/', no leading '.', no odd characters.
bool is_safe_dist_filename(std::string_view filename);

}  // namespace airlock::bundler::py
