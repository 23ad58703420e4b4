#pragma once
// The payload's signed `sources` (docs/FORMAT.md §3 and §9) decoded into
// typed structs. Every field is type-checked here, where it is decoded, and
// every name that becomes a layout entry is checked against
// core/names/names.h: the installer's targets read only these structs and
// never the raw JSON of a bundle. The same decoder reads the copy the
// installer's ledger keeps per version (which may predate these checks).
//
// What is checked, per source (an object):
//   kind       string, required
//   identity   object (absent: empty); known fields must have their type
//              (strings: repo, commit, revision, ref, digest, dest, ...;
//              booleans: insecure, signed; unsigned: size; arrays: refs,
//              components, requested, packages, requirements), unknown
//              fields are kept only in the raw JSON
//   files      array of objects: path (string, required, a file of the
//              bundle with the same sha256 and size), size (unsigned),
//              sha256, origin (strings), extra (object: lfs boolean; blob,
//              control, architecture, ... strings)
// and per kind: "model" files lie under model/; with identity.repo (a Hub
// model) repo, commit and revision follow names.h and every file has its
// blob id (extra.lfs with a SHA-256, else extra.blob, a git SHA-1);
// "image" ref and digests, "oci-layout" refs: image refs; "deb" files are
// debs/NAME.deb, their extra.architecture a Debian architecture; "wheels"
// files are wheels/NAME; names of those files follow is_target_file_name.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/error.h"

namespace airlock::format {

struct SourceFile {
  std::string path;
  std::optional<std::uint64_t> size;
  std::string sha256;  // empty when not given
  std::string origin;
  // extra: what the install targets read.
  bool lfs = false;
  std::string blob;          // model: the HF blob name (sha256 when lfs, else the git SHA-1)
  std::string control;       // deb: the Packages stanza as shipped; empty when not given
  std::string architecture;  // deb: empty when not given
};

struct SourceIdentity {
  std::string repo;      // model: Hub repo id (empty: a local directory); deb: the apt URL
  std::string commit;    // model (Hub)
  std::string revision;  // model (Hub): "main" when not given
  std::string ref;       // image
  std::string digest;    // image
  std::vector<std::string> refs;  // oci-layout
  std::string dest;      // files
};

struct Source {
  std::string kind;
  SourceIdentity identity;
  std::vector<SourceFile> files;

  bool is_hub_model() const { return kind == "model" && !identity.repo.empty(); }
};

// A file the sources may name, as the payload (or the ledger) lists it.
struct ListedFile {
  std::uint64_t size = 0;
  std::string sha256;
};

// `sources` null gives no sources. kCorruption naming the field
// ("sources[1] (model): files[0].extra.lfs must be a boolean") otherwise.
Result<std::vector<Source>> decode_sources(const nlohmann::json& sources,
                                           const std::map<std::string, ListedFile>& files);

// The first source of that kind, or null.
const Source* find_source(const std::vector<Source>& sources, std::string_view kind);

}  // namespace airlock::format
