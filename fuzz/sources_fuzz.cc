// The connected side's parsers of what servers send and users write: apt
// stanzas, Packages and dependency fields, Debian versions, pip requirements
// files, PEP 503 HTML and PEP 691 JSON pages, image references and
// platforms, the Hub's Link and ETag headers, and the lock.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bundler/lock.h"
#include "bundler/sources/apt_repo.h"
#include "bundler/sources/deb822.h"
#include "bundler/sources/debian_version.h"
#include "bundler/sources/hf_hub.h"
#include "core/oci/ref.h"
#include "bundler/sources/requirements.h"
#include "bundler/sources/simple_index.h"

using namespace airlock;
using namespace airlock::bundler;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)apt::parse_stanzas(text);
  (void)apt::parse_dependencies(text);
  (void)apt::parse_packages(text, "amd64", 0, "fuzz");
  const std::size_t half = text.size() / 2;
  (void)apt::compare_debian_versions(text.substr(0, half), text.substr(half));
  (void)apt::is_valid_debian_version(text);
  (void)py::parse_requirements(text, "fuzz.txt");
  (void)py::parse_simple_html(text, "http://127.0.0.1/simple/x/");
  (void)py::parse_simple_json(text, "http://127.0.0.1/simple/x/");
  (void)py::html_unescape(text);
  (void)oci::parse_image_ref(text);
  (void)oci::parse_platform(text);
  (void)hf::next_link(text);
  (void)hf::normalize_etag(text);
  (void)hf::repo_from_source(text);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    (void)lock_from_json(j, "/tmp", "fuzz.lock.json");
  }
  return 0;
}
