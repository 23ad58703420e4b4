#pragma once
// Resolvers: each turns one kind of manifest source into locked sources
// (exact identities, every file with origin URL, size and SHA-256), and
// turns a locked source back into downloads for the fetch cache.
//
// Resolving talks to the network (metadata only, plus small files whose
// SHA-256 the server does not advertise, which land in the cache); fetching
// downloads every remote file into the cache, verifying each hash.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bundler/lock.h"
#include "core/base/progress.h"
#include "core/manifest/manifest.h"
#include "core/net/cache.h"
#include "core/net/http.h"
#include "core/os/process_runner.h"

namespace airlock::bundler {

struct ResolveContext {
  net::Cache* cache = nullptr;
  net::NetOptions net;
  std::function<void(const std::string&)> note;  // a line for the user ("pinned main to 0e9e39f…")
  std::optional<std::filesystem::path> target_status;  // dpkg status of the target ([[deb]])
  os::ProcessRunner* processes = nullptr;  // runs gpgv ([[deb]] signed-by); from the program's run()
};

// [model] source = "hf://ORG/NAME" (bundler/sources/hf.cc).
Result<LockedSource> resolve_hf_model(const manifest::ModelSpec& spec, const ResolveContext& ctx);
// [[image]] entries (bundler/sources/oci.cc): one "image" source per entry,
// then one "oci-layout" source holding index.json (every image, annotated
// with org.opencontainers.image.ref.name = the full reference) and oci-layout.
Result<std::vector<LockedSource>> resolve_images(const std::vector<manifest::ImageSpec>& specs,
                                                 const ResolveContext& ctx);
// [[deb]] entries (bundler/sources/apt.cc): dependencies resolve across all
// of them; one "deb" source per entry with the packages taken from it.
Result<std::vector<LockedSource>> resolve_debs(const std::vector<manifest::DebSpec>& specs,
                                               const ResolveContext& ctx);
// [[wheels]] (bundler/sources/wheels.cc).
Result<LockedSource> resolve_wheels(const manifest::WheelsSpec& spec, const ResolveContext& ctx);

// Downloads for the remote files of one locked source, with whatever
// credentials its kind needs (HF token, registry bearer token).
Result<std::vector<net::FetchItem>> fetch_items(const LockedSource& source, const ResolveContext& ctx);
// Per-kind parts of fetch_items (each in its resolver's file).
Result<std::vector<net::FetchItem>> hf_fetch_items(const LockedSource& source, const ResolveContext& ctx);
Result<std::vector<net::FetchItem>> oci_fetch_items(const LockedSource& source, const ResolveContext& ctx);

}  // namespace airlock::bundler
