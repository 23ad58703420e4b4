#include "bundler/commands/sources_cli.h"

#include "cli/printer.h"

namespace airlock::bundler {

void add_source_options(CLI::App* cmd, SourceOptions& o) {
  cmd->add_option("--cache", o.cache,
                  "fetch cache directory (default: $AIRLOCK_CACHE, else $XDG_CACHE_HOME/airlock, else "
                  "~/.cache/airlock)")
      ->type_name("DIR");
  cmd->add_option("--parallel", o.parallel, "concurrent downloads")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--retries", o.retries,
                  "retries per download after a network failure, with backoff; an interrupted download resumes")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_option("--target-status", o.target_status,
                  "[[deb]]: the isolated machine's /var/lib/dpkg/status; packages it already has are left out");
}

Result<SourceSession> open_sources(const SourceOptions& o, Context& ctx) {
  SourceSession s;
  ASSIGN_OR_RETURN(net::Cache cache, net::Cache::open(o.cache.empty() ? net::Cache::default_dir() : std::filesystem::path(o.cache)));
  s.cache = std::make_unique<net::Cache>(std::move(cache));
  s.ctx.http = ctx.http;
  s.ctx.cache = s.cache.get();
  s.ctx.net.retries = o.retries;
#ifdef AIRLOCK_TEST_HOOKS
  if (const char* ms = std::getenv("AIRLOCK_TEST_BACKOFF_MS"); ms != nullptr) {
    s.ctx.net.backoff_ms = std::atoi(ms);  // tests: retries without the real waits
  }
#endif
  s.ctx.note = [&ctx](const std::string& line) { ctx.printer.note("{}", line); };
  s.ctx.processes = &ctx.processes;
  s.ctx.clock = &ctx.clock;
  if (!o.target_status.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.target_status, ec)) {
      return make_error(ErrorCode::kNotFound, "--target-status {}: no such file", o.target_status);
    }
    s.ctx.target_status = o.target_status;
  }
  s.fetch.http = ctx.http;
  s.fetch.parallel = o.parallel;
  s.fetch.net = s.ctx.net;
  s.fetch.progress = ctx.printer.progress();
  return s;
}

Result<Lock> load_or_resolve(const std::string& path, SourceSession& s, bool hash_local, bool* from_lock) {
  ASSIGN_OR_RETURN(InputText in, read_input(path));
  if (from_lock != nullptr) {
    *from_lock = in.is_lock;
  }
  if (in.is_lock) {
    return lock_from_input(in);
  }
  ASSIGN_OR_RETURN(manifest::Manifest m, manifest::parse_manifest_text(in.text, in.path, in.base_dir));
  return resolve_manifest(m, s.ctx, hash_local);
}

Result<FileSources> fetch_with_progress(const Lock& lock, SourceSession& s, Context& ctx) {
  net::FetchStats stats;
  auto where = fetch_lock(lock, s.ctx, s.fetch, &stats);
  ctx.printer.end_progress();
  TRY(where);
  std::size_t remote = 0;
  for (const LockedSource& src : lock.sources) {
    for (const LockedFile& f : src.files) {
      remote += f.is_remote() ? 1 : 0;
    }
  }
  if (remote > 0) {
    ctx.printer.note("fetched {} of {} remote files ({} over the network{}); {} already in the cache {}",
                     stats.downloaded, remote, cli::human_bytes(stats.transferred),
                     stats.resumed_from > 0 ? fmt::format(", {} resumed", cli::human_bytes(stats.resumed_from)) : "",
                     remote - stats.downloaded, s.cache->dir().string());
  }
  return where;
}

}  // namespace airlock::bundler
