// airlock-bundler lock: manifest -> lock (every source pinned, every file
// with origin, size and SHA-256). airlock-bundler fetch: fill the cache.
#include <filesystem>

#include "bundler/commands/sources_cli.h"
#include "bundler/weights_check.h"
#include "cli/printer.h"

namespace airlock::bundler {

namespace stdfs = std::filesystem;

namespace {

struct LockOptions {
  std::string manifest;
  std::string out;
  SourceOptions sources;
};

Status lock_command(const LockOptions& o, Context& ctx) {
  ASSIGN_OR_RETURN(InputText in, read_input(o.manifest));  // once: it may be a pipe
  if (in.is_lock) {
    return make_error(ErrorCode::kUsage, "{}: this is already a lock; 'lock' takes a manifest (TOML)", o.manifest);
  }
  ASSIGN_OR_RETURN(SourceSession s, open_sources(o.sources, ctx));
  ASSIGN_OR_RETURN(manifest::Manifest m, manifest::parse_manifest_text(in.text, in.path, in.base_dir));
  ASSIGN_OR_RETURN(Lock lock, resolve_manifest(m, s.ctx, true));
  // What this machine holds already: local files, and the Hub's small files
  // that resolving fetched into the cache; the rest is judged by name here
  // and by its bytes at create.
  LocalFiles local;
  for (const LockedSource& src : lock.sources) {
    for (const LockedFile& f : src.files) {
      std::error_code ec;
      if (!f.is_remote() && !f.is_inline()) {
        local[f.path] = f.origin;
      } else if (f.is_remote() && !f.sha256.empty() && stdfs::is_regular_file(s.cache->path_for(f.sha256), ec)) {
        local[f.path] = s.cache->path_for(f.sha256);
      }
    }
  }
  TRY(check_model_weights(lock, local, o.manifest));
  TRY(write_lock(lock, o.out));
  std::size_t files = 0;
  std::uint64_t bytes = 0;
  for (const LockedSource& src : lock.sources) {
    for (const LockedFile& f : src.files) {
      ++files;
      bytes += f.size;
    }
  }
  fmt::print("locked {} {}: {} sources, {} files, {} -> {}\n", lock.name, lock.version, lock.sources.size(), files,
             cli::human_bytes(bytes), o.out);
  return ok_status();
}

struct FetchOptions {
  std::string input;
  SourceOptions sources;
};

Status fetch_command(const FetchOptions& o, Context& ctx) {
  ASSIGN_OR_RETURN(SourceSession s, open_sources(o.sources, ctx));
  ASSIGN_OR_RETURN(Lock lock, load_or_resolve(o.input, s, false));
  ASSIGN_OR_RETURN(FileSources where, fetch_with_progress(lock, s, ctx));
  fmt::print("ready: {} {} ({} files)\n", lock.name, lock.version, where.size());
  return ok_status();
}

}  // namespace

void add_lock_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<LockOptions>();
  CLI::App* cmd = app.add_subcommand(
      "lock",
      "Resolve a manifest's sources to exact identities (HF commit, image digest, .deb and wheel hashes) and write a "
      "JSON lock listing every file that will ship with its origin, size and SHA-256");
  cmd->add_option("manifest", o->manifest, "deployment manifest (TOML)")->required();
  cmd->add_option("-o,--out", o->out, "lock file to write (e.g. manifest.lock.json)")->required();
  add_source_options(cmd, o->sources);
  cmd->footer(
      "Credentials, read as each source's own tools read them:\n"
      "  Hugging Face Hub  HF_ENDPOINT (default https://huggingface.co), HF_TOKEN, HUGGING_FACE_HUB_TOKEN or\n"
      "                    $HF_HOME/token; the token goes to the Hub only, never to its CDN\n"
      "  OCI registries    REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json (\"auths\")\n"
      "  apt               signed-by = keyring in the manifest, checked with gpgv\n"
      "Then: airlock-bundler create LOCK -o DIR --sign KEY --to SITE.pub (downloads only what the cache lacks).");
  cmd->callback([&ctx, o] {
    ctx.printer.set_quiet(ctx.quiet);
    auto st = lock_command(*o, ctx);
    if (!st) {
      ctx.exit_code = ctx.printer.fail(st.error());
    }
  });

  auto f = std::make_shared<FetchOptions>();
  CLI::App* fetch = app.add_subcommand(
      "fetch", "Download everything a manifest or lock needs into the fetch cache (verified by SHA-256; resumable)");
  fetch->add_option("input", f->input, "deployment manifest (TOML) or lock (JSON)")->required();
  add_source_options(fetch, f->sources);
  fetch->callback([&ctx, f] {
    ctx.printer.set_quiet(ctx.quiet);
    auto st = fetch_command(*f, ctx);
    if (!st) {
      ctx.exit_code = ctx.printer.fail(st.error());
    }
  });
}

}  // namespace airlock::bundler
