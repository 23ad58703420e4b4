#pragma once
// Options every command that reads sources shares (lock, fetch, create):
// the fetch cache, parallel downloads, retries, the target's dpkg status.

#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "bundler/commands/commands.h"
#include "bundler/plan.h"

namespace airlock::bundler {

struct SourceOptions {
  std::string cache;          // default: net::Cache::default_dir()
  std::size_t parallel = 4;
  int retries = 4;
  std::string target_status;  // dpkg status file of the isolated machine
};

void add_source_options(CLI::App* cmd, SourceOptions& o);

// What a command needs to resolve and fetch: the open cache and the context.
struct SourceSession {
  std::unique_ptr<net::Cache> cache;
  ResolveContext ctx;
  net::FetchOptions fetch;
};
Result<SourceSession> open_sources(const SourceOptions& o, Context& ctx);

// A lock file as is, or a manifest resolved now (hash_local: see resolve_manifest).
Result<Lock> load_or_resolve(const std::string& path, SourceSession& s, bool hash_local, bool* from_lock = nullptr);

// Downloads what the lock needs, with progress, and prints a summary line
// ("fetched 3 files, 1.2 GiB; 12 already cached").
Result<FileSources> fetch_with_progress(const Lock& lock, SourceSession& s, Context& ctx);

}  // namespace airlock::bundler
