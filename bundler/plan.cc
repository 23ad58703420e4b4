#include "bundler/plan.h"

#include <fnmatch.h>

#include <set>
#include <string>


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
  ResolveContext with_hashing = ctx;
  with_hashing.hash_local = hash_local;
  ASSIGN_OR_RETURN(lock.sources, resolve_sources(m, with_hashing));
  TRY(check_paths(lock, m.path));
  // The [model] policy travels with the lock (create from a lock re-reads
  // no manifest) and, signed, in the payload's identity.
  for (LockedSource& s : lock.sources) {
    if (s.kind == "model" && m.model) {
      if (m.model->allow_pickle) {
        s.identity["allow_pickle"] = true;
      }
      if (m.model->allow_remote_code) {
        s.identity["allow_remote_code"] = true;
      }
    }
  }
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
