#include "bundler/plan.h"

#include <fnmatch.h>

#include <set>
#include <string>

#include "core/fs/file.h"
#include "core/fs/tree.h"

namespace airlock::bundler {

namespace stdfs = std::filesystem;

bool glob_match(std::string_view pattern, std::string_view path) {
  std::string p(pattern);
  if (p.ends_with('/')) {
    p += '*';  // "dir/" means everything under dir, as huggingface_hub reads it
  }
  std::string s(path);
  if (::fnmatch(p.c_str(), s.c_str(), 0) == 0) {
    return true;
  }
  if (p.find('/') == std::string::npos) {
    auto slash = s.rfind('/');
    if (slash != std::string::npos) {
      return ::fnmatch(p.c_str(), s.c_str() + slash + 1, 0) == 0;
    }
  }
  return false;
}

bool glob_selected(const std::vector<std::string>& include, const std::vector<std::string>& exclude,
                   std::string_view path) {
  bool included = include.empty();
  for (const std::string& g : include) {
    included = included || glob_match(g, path);
  }
  for (const std::string& g : exclude) {
    if (glob_match(g, path)) {
      return false;
    }
  }
  return included;
}

namespace {

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

Status check_paths(const Lock& lock, const stdfs::path& what) {
  std::map<std::string, const LockedFile*> paths;
  for (const LockedSource& s : lock.sources) {
    for (const LockedFile& f : s.files) {
      auto [it, fresh] = paths.emplace(f.path, &f);
      if (!fresh && (it->second->sha256 != f.sha256 || f.sha256.empty() || it->second->size != f.size)) {
        return make_error(ErrorCode::kInvalidArgument, "{}: two sources ship different files to the same path '{}'",
                          what.string(), f.path);
      }
    }
  }
  for (const auto& [p, f] : paths) {
    auto it = paths.lower_bound(p + "/");
    if (it != paths.end() && it->first.starts_with(p + "/")) {
      return make_error(ErrorCode::kInvalidArgument, "{}: '{}' would be both a file and a directory", what.string(), p);
    }
  }
  return ok_status();
}

}  // namespace

Result<Lock> resolve_manifest(const manifest::Manifest& m, const ResolveContext& ctx, bool hash_local) {
  Lock lock;
  lock.name = m.name;
  lock.version = m.version;
  if (m.activate) {
    lock.activate = {{"run", m.activate->run},
                     {"health", m.activate->health.value_or("")},
                     {"timeout_seconds", m.activate->timeout_seconds},
                     {"shell", m.activate->shell}};
  }
  if (m.model && m.model->is_hub()) {
    ASSIGN_OR_RETURN(LockedSource s, resolve_hf_model(*m.model, ctx));
    lock.sources.push_back(std::move(s));
  } else if (m.model) {
    auto files = fs::list_source_tree(m.model->source);
    if (!files) {
      return std::unexpected(Error(files.error()).with_context(fmt::format("{}: [model]", m.path.string())));
    }
    LockedSource s;
    s.kind = "model";
    s.identity = {{"source", m.model->source}};
    for (const fs::SourceFile& f : *files) {
      if (glob_selected(m.model->include, m.model->exclude, f.rel_path)) {
        ASSIGN_OR_RETURN(LockedFile lf, local_file(f, "model/" + f.rel_path, hash_local));
        s.files.push_back(std::move(lf));
      }
    }
    if (s.files.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "{}: [model] no file in {} matches the include/exclude globs",
                        m.path.string(), m.model->source);
    }
    lock.sources.push_back(std::move(s));
  }
  if (!m.images.empty()) {
    ASSIGN_OR_RETURN(std::vector<LockedSource> images, resolve_images(m.images, ctx));
    for (LockedSource& s : images) {
      lock.sources.push_back(std::move(s));
    }
  }
  if (!m.debs.empty()) {
    ASSIGN_OR_RETURN(std::vector<LockedSource> debs, resolve_debs(m.debs, ctx));
    for (LockedSource& s : debs) {
      lock.sources.push_back(std::move(s));
    }
  }
  for (const manifest::WheelsSpec& w : m.wheels) {
    ASSIGN_OR_RETURN(LockedSource s, resolve_wheels(w, ctx));
    lock.sources.push_back(std::move(s));
  }
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
      ASSIGN_OR_RETURN(LockedFile lf, local_file(f, is_dir ? spec.dest + "/" + f.rel_path : spec.dest, hash_local));
      s.files.push_back(std::move(lf));
    }
    lock.sources.push_back(std::move(s));
  }
  TRY(check_paths(lock, m.path));
  return lock;
}

Result<FileSources> fetch_lock(const Lock& lock, const ResolveContext& ctx, const net::FetchOptions& options,
                               net::FetchStats* stats) {
  TRY(check_paths(lock, "lock"));
  FileSources where;
  std::vector<net::FetchItem> items;
  std::vector<std::string> item_paths;
  for (const LockedSource& s : lock.sources) {
    bool remote = false;
    for (const LockedFile& f : s.files) {
      if (f.is_inline()) {
        ASSIGN_OR_RETURN(std::string sha, ctx.cache->put(ByteSpan(reinterpret_cast<const std::uint8_t*>(f.content.data()),
                                                                   f.content.size())));
        if (sha != f.sha256) {
          return make_error(ErrorCode::kCorruption, "lock: {}: inline content does not match its SHA-256", f.path);
        }
        where[f.path] = ctx.cache->path_for(sha);
      } else if (f.is_remote()) {
        remote = true;
      } else {
        where[f.path] = f.origin;
      }
    }
    if (!remote) {
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<net::FetchItem> more, fetch_items(s, ctx));
    for (net::FetchItem& it : more) {
      items.push_back(std::move(it));
    }
    for (const LockedFile& f : s.files) {
      if (f.is_remote()) {
        item_paths.push_back(f.path);
      }
    }
  }
  if (items.size() != item_paths.size()) {
    return make_error(ErrorCode::kInvalidArgument, "lock: {} remote files but {} downloads", item_paths.size(),
                      items.size());
  }
  ASSIGN_OR_RETURN(std::vector<net::FetchResult> fetched, net::fetch_all(*ctx.cache, items, options, stats));
  for (std::size_t i = 0; i < fetched.size(); ++i) {
    where[item_paths[i]] = fetched[i].path;
  }
  return where;
}

Result<std::vector<format::InputFile>> plan_inputs(const Lock& lock, const FileSources& where) {
  std::vector<format::InputFile> out;
  std::set<std::string> seen;
  for (const LockedSource& s : lock.sources) {
    for (const LockedFile& f : s.files) {
      if (!seen.insert(f.path).second) {
        continue;  // the same blob from a second image
      }
      auto it = where.find(f.path);
      if (it == where.end()) {
        return make_error(ErrorCode::kNotFound, "{}: not fetched", f.path);
      }
      std::error_code ec;
      auto size = stdfs::file_size(it->second, ec);
      if (ec) {
        return make_error(ErrorCode::kNotFound, "{}: {}: {}", f.path, it->second.string(), ec.message());
      }
      if (size != f.size) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: {} is {} bytes, the lock says {}; it changed since the lock was made (run "
                          "'airlock-bundler lock' again)",
                          f.path, it->second.string(), size, f.size);
      }
      out.push_back(format::InputFile{it->second, f.path, f.mode, f.size});
    }
  }
  return out;
}

Status reconcile_hashes(Lock& lock, const format::Payload& payload) {
  std::map<std::string, const format::FileEntry*> written;
  for (const format::FileEntry& f : payload.files) {
    written[f.path] = &f;
  }
  for (LockedSource& s : lock.sources) {
    for (LockedFile& f : s.files) {
      auto it = written.find(f.path);
      if (it == written.end()) {
        return make_error(ErrorCode::kIOError, "{}: missing from the written bundle", f.path);
      }
      if (f.sha256.empty()) {
        f.sha256 = it->second->sha256;
      } else if (f.sha256 != it->second->sha256) {
        return make_error(ErrorCode::kCorruption,
                          "{}: {} changed since the lock was made (SHA-256 {} in the lock, {} now); run "
                          "'airlock-bundler lock' again",
                          f.path, f.origin, f.sha256, it->second->sha256);
      }
    }
  }
  return ok_status();
}

}  // namespace airlock::bundler
