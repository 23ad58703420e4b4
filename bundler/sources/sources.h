#pragma once
// Source kinds: each turns one kind of manifest source into locked sources
// (exact identities, every file with origin URL, size and SHA-256), turns a
// locked source back into downloads for the fetch cache, and says what a
// source of its kind is in one line for `inspect`.
//
// Resolving talks to the network (metadata only, plus small files whose
// SHA-256 the server does not advertise, which land in the cache); fetching
// downloads every remote file into the cache, verifying each hash.
//
// Every kind is one SourceKind value, defined in its own file and listed in
// the table in sources.cc (docs/ARCHITECTURE.md, "Adding a source kind").
// Each has one name, used for its code: its file(s), its value
// (k_<name>_source), its resolver and its namespace.
//
//   name       manifest              lock/payload kind   file
//   hf         [model] hf://ORG/NAME "model" (+repo)     hf.cc, hf_hub.cc
//   model_dir  [model] a directory   "model" (no repo)   local.cc
//   oci        [[image]]             "image", "oci-layout" oci.cc, oci_registry.cc
//   apt        [[deb]]               "deb"               apt.cc, apt_repo.cc, apt_resolve.cc, deb822.cc, ...
//   wheels     [[wheels]]            "wheels"            wheels.cc, requirements.cc, simple_index.cc
//   files      [[files]]             "files"             local.cc

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundler/lock.h"
#include "core/base/progress.h"
#include "core/manifest/manifest.h"
#include "core/os/clock.h"
#include "core/os/process_runner.h"
#include "net/cache.h"
#include "net/http.h"

namespace airlock::bundler {

struct ResolveContext {
  const net::HttpConnector* http = nullptr;  // the network (the real one from bundler/app.cc)
  net::Cache* cache = nullptr;
  net::NetOptions net;
  std::function<void(const std::string&)> note;  // a line for the user ("pinned main to 0e9e39f…")
  std::optional<std::filesystem::path> target_status;  // dpkg status of the target ([[deb]])
  // Local files: compute their SHA-256 now (the lock command); otherwise they
  // stay empty and `create` takes them from the bundle it writes.
  bool hash_local = false;
  os::ProcessRunner* processes = nullptr;  // runs gpgv ([[deb]] signed-by); from the program's run()
  const os::Clock* clock = nullptr;        // what time it is (an apt Release's Valid-Until); from run()
};

// One kind of source. Plain function pointers, so every value is constant-
// initialised and the table needs no start-up order.
struct SourceKind {
  std::string_view name;      // the internal name (table above)
  std::string_view manifest;  // how the manifest spells it, for messages and docs: "[[deb]]"

  // The locked sources this kind makes of the manifest, in manifest order;
  // none when the manifest has no source of this kind. Errors name the entry.
  Result<std::vector<LockedSource>> (*resolve)(const manifest::Manifest& m, const ResolveContext& ctx);

  // Lock encoding. Whether a locked (or payload) source is this kind's: by
  // its `kind` string and, where two kinds share one, its identity.
  bool (*owns)(std::string_view kind, const nlohmann::json& identity);
  // The identity as the signed payload carries it; null: as in the lock.
  nlohmann::json (*payload_identity)(const nlohmann::json& identity);

  // Downloads for the remote files of one locked source, with whatever
  // credentials the kind needs (HF token, registry bearer token); null:
  // plain downloads (plain_fetch_items). Called only for a source with
  // remote files.
  Result<std::vector<net::FetchItem>> (*fetch)(const LockedSource& source, const ResolveContext& ctx);

  // `inspect`: what a source of this kind in a bundle's payload is, in a few
  // words ("hf://org/name @ COMMIT"); the caller escapes it.
  std::string (*describe)(std::string_view kind, const nlohmann::json& identity);
};

// Every kind, in the order a manifest's sources are resolved and locked.
std::span<const SourceKind* const> source_kinds();
// The kind owning a locked or payload source; null for a kind this bundler
// does not know (a hand-edited lock).
const SourceKind* find_source_kind(std::string_view kind, const nlohmann::json& identity);

// Every kind's sources of the manifest, in table order.
Result<std::vector<LockedSource>> resolve_sources(const manifest::Manifest& m, const ResolveContext& ctx);
// Downloads for the remote files of one locked source, by its kind.
Result<std::vector<net::FetchItem>> fetch_items(const LockedSource& source, const ResolveContext& ctx);
// Plain downloads, no credentials: the lock's hash decides; each file named
// "LABEL: PATH"; plain http when the identity's "insecure" says so.
std::vector<net::FetchItem> plain_fetch_items(const LockedSource& source, std::string_view label);
// `inspect`'s words for a payload source (kind, identity), any kind.
std::string describe_source(std::string_view kind, const nlohmann::json& identity);
// The payload's identity for a locked source (SourceKind::payload_identity).
nlohmann::json payload_identity(const LockedSource& source);

// Reads a string field of an identity; empty when absent or not a string.
std::string identity_string(const nlohmann::json& identity, const char* key);

}  // namespace airlock::bundler
