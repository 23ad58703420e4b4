// The local source kinds: [model] source = a directory ("model_dir") and
// [[files]] ("files"). Every file is listed with fs::list_source_tree, which
// refuses links out of the source tree; each keeps its local path as origin.
// Their SHA-256 is computed only when ResolveContext::hash_local asks (the
// lock command); `create` takes it from the bundle it writes instead.

#include <filesystem>

#include <fmt/core.h>

#include "bundler/plan.h"
#include "bundler/sources/sources.h"
#include "core/crypto/sha256.h"
#include "core/fs/file.h"
#include "core/fs/tree.h"

namespace airlock::bundler {
namespace {

namespace stdfs = std::filesystem;

Result<LockedFile> local_file(const fs::SourceFile& f, std::string path, bool hash) {
  LockedFile out;
  out.path = std::move(path);
  out.origin = f.source.string();
  out.size = f.size;
  out.mode = f.mode;
  if (hash) {
    ASSIGN_OR_RETURN(out.sha256, fs::sha256_file(f.source));
  }
  return out;
}

Result<std::vector<LockedSource>> resolve_model_dir(const manifest::Manifest& m, const ResolveContext& ctx) {
  std::vector<LockedSource> out;
  if (!m.model || m.model->is_hub()) {
    return out;
  }
  auto files = fs::list_source_tree(m.model->source);
  if (!files) {
    return std::unexpected(Error(files.error()).with_context(fmt::format("{}: [model]", m.path.string())));
  }
  LockedSource s;
  s.kind = "model";
  s.identity = {{"source", m.model->source}};
  for (const fs::SourceFile& f : *files) {
    if (glob_selected(m.model->include, m.model->exclude, f.rel_path)) {
      ASSIGN_OR_RETURN(LockedFile lf, local_file(f, "model/" + f.rel_path, ctx.hash_local));
      s.files.push_back(std::move(lf));
    }
  }
  if (s.files.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: [model] no file in {} matches the include/exclude globs",
                      m.path.string(), m.model->source);
  }
  out.push_back(std::move(s));
  return out;
}

Result<std::vector<LockedSource>> resolve_files(const manifest::Manifest& m, const ResolveContext& ctx) {
  std::vector<LockedSource> out;
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const manifest::FilesSpec& spec = m.files[i];
    auto files = fs::list_source_tree(spec.source);
    if (!files) {
      return std::unexpected(Error(files.error()).with_context(fmt::format("{}: [[files]] #{}", m.path.string(), i + 1)));
    }
    std::error_code ec;
    const bool is_dir = stdfs::is_directory(spec.source, ec);
    LockedSource s;
    s.kind = "files";
    s.identity = {{"dest", spec.dest}};
    for (const fs::SourceFile& f : *files) {
      ASSIGN_OR_RETURN(LockedFile lf,
                       local_file(f, is_dir ? spec.dest + "/" + f.rel_path : spec.dest, ctx.hash_local));
      s.files.push_back(std::move(lf));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

// [model] source = a directory of this machine.
extern const SourceKind k_model_dir_source{
    .name = "model_dir",
    .manifest = "[model] source = DIR",
    .resolve = resolve_model_dir,
    .owns = [](std::string_view kind, const nlohmann::json& id) { return kind == "model" && !id.contains("repo"); },
    // A local directory of the connected machine: meaningless on the other side.
    .payload_identity = [](const nlohmann::json& id) {
      nlohmann::json out = id;
      out.erase("source");
      return out;
    },
    .fetch = nullptr,
    .describe = [](std::string_view, const nlohmann::json&) -> std::string { return ""; },
};

// [[files]]: files or directories of this machine, shipped under dest.
extern const SourceKind k_files_source{
    .name = "files",
    .manifest = "[[files]]",
    .resolve = resolve_files,
    .owns = [](std::string_view kind, const nlohmann::json&) { return kind == "files"; },
    .payload_identity = nullptr,
    .fetch = nullptr,
    .describe = [](std::string_view, const nlohmann::json& id) -> std::string { return id.value("dest", ""); },
};

}  // namespace airlock::bundler
