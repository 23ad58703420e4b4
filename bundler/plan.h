#pragma once
// From manifest to bundle inputs, in three steps:
//   resolve_manifest: every source to exact identities and files (a Lock);
//   fetch_lock:       every remote file into the fetch cache, verified;
//   plan_inputs:      the Lock's files as the bundle writer's inputs, each
//                     read from the cache, the lock's inline content, or
//                     its local path.
// Local files ([model] directories, [[files]]) are checked for links out of
// their source tree; paths must be unique (identical entries, such as a blob
// two images share, count once) and no path may be both file and directory.

#include <map>
#include <vector>

#include "bundler/lock.h"
#include "bundler/sources/sources.h"
#include "core/format/bundle_writer.h"
#include "core/manifest/manifest.h"

namespace airlock::bundler {

// Every source through its kind (bundler/sources/sources.h), then the paths
// checked. hash_local: compute local files' SHA-256 now (the lock command);
// otherwise they stay empty and `create` takes them from the bundle it writes.
Result<Lock> resolve_manifest(const manifest::Manifest& manifest, const ResolveContext& ctx, bool hash_local);

// Where each shipped file's bytes are, by LockedFile::path.
using FileSources = std::map<std::string, std::filesystem::path>;
Result<FileSources> fetch_lock(const Lock& lock, const ResolveContext& ctx, const net::FetchOptions& options,
                               net::FetchStats* stats);

Result<std::vector<format::InputFile>> plan_inputs(const Lock& lock, const FileSources& where);

// Checks the written payload against the lock: every file's SHA-256 equals
// the lock's (a local file changed since `lock` is an error naming it); fills
// in the local files' SHA-256 left empty by resolve_manifest.
Status reconcile_hashes(Lock& lock, const format::Payload& payload);

// fnmatch-style glob on a '/'-separated path; '*' also crosses '/', as the
// Hub's include/exclude patterns do. A pattern without '/' also matches the
// file name alone ("*.json").
bool glob_match(std::string_view pattern, std::string_view path);
// include (empty: everything) minus exclude.
bool glob_selected(const std::vector<std::string>& include, const std::vector<std::string>& exclude,
                   std::string_view path);

}  // namespace airlock::bundler
