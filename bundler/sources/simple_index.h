#pragma once
// The simple repository API of Python package indexes: PEP 503 HTML
// (anchors, "#sha256=…" fragments) and PEP 691 JSON
// (application/vnd.pypi.simple.v1+json) project pages.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bundler/sources/requirements.h"
#include "core/base/error.h"

namespace airlock::bundler::py {

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
