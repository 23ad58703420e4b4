#include "bundler/sources/sources.h"

#include <fmt/core.h>

namespace airlock::bundler {

// Each defined in its kind's file.
extern const SourceKind k_hf_source;
extern const SourceKind k_model_dir_source;
extern const SourceKind k_oci_source;
extern const SourceKind k_apt_source;
extern const SourceKind k_wheels_source;
extern const SourceKind k_files_source;

namespace {

// The table. Order is the manifest's sources' order in the lock: [model],
// [[image]], [[deb]], [[wheels]], [[files]].
constexpr const SourceKind* k_kinds[] = {&k_hf_source,  &k_model_dir_source, &k_oci_source,
                                         &k_apt_source, &k_wheels_source,    &k_files_source};

}  // namespace

std::span<const SourceKind* const> source_kinds() { return k_kinds; }

const SourceKind* find_source_kind(std::string_view kind, const nlohmann::json& identity) {
  for (const SourceKind* k : k_kinds) {
    if (k->owns(kind, identity)) {
      return k;
    }
  }
  return nullptr;
}

Result<std::vector<LockedSource>> resolve_sources(const manifest::Manifest& m, const ResolveContext& ctx) {
  std::vector<LockedSource> out;
  for (const SourceKind* k : k_kinds) {
    ASSIGN_OR_RETURN(std::vector<LockedSource> more, k->resolve(m, ctx));
    for (LockedSource& s : more) {
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::string identity_string(const nlohmann::json& identity, const char* key) {
  return identity.is_object() && identity.contains(key) && identity[key].is_string() ? identity[key].get<std::string>()
                                                                                     : std::string();
}

std::vector<net::FetchItem> plain_fetch_items(const LockedSource& source, std::string_view label) {
  // Each resolver records in "insecure" whether plain http is allowed (for
  // apt also when signed-by authenticates the metadata).
  const bool insecure = source.identity.value("insecure", false);
  std::vector<net::FetchItem> out;
  for (const LockedFile& f : source.files) {
    if (!f.is_remote()) {
      continue;
    }
    net::FetchItem it;
    it.what = fmt::format("{}: {}", label, f.path);
    it.url = f.origin;
    it.sha256 = f.sha256;
    it.size = f.size;
    it.allow_insecure_http = insecure;
    out.push_back(std::move(it));
  }
  return out;
}

Result<std::vector<net::FetchItem>> fetch_items(const LockedSource& source, const ResolveContext& ctx) {
  const SourceKind* k = find_source_kind(source.kind, source.identity);
  if (k != nullptr && k->fetch != nullptr) {
    return k->fetch(source, ctx);
  }
  return plain_fetch_items(source, source.kind);  // a kind this bundler does not know: plain downloads
}

std::string describe_source(std::string_view kind, const nlohmann::json& identity) {
  if (const SourceKind* k = find_source_kind(kind, identity)) {
    return k->describe(kind, identity);
  }
  // A kind this bundler does not know: whatever its identity names.
  const nlohmann::json& id = identity;
  if (id.contains("repo") && id.contains("commit")) {
    return fmt::format("hf://{} @ {}", id.value("repo", ""), id.value("commit", ""));
  }
  if (id.contains("ref")) {
    return fmt::format("{} {} {}", id.value("ref", ""), id.value("platform", ""), id.value("digest", ""));
  }
  for (const char* key : {"repo", "index", "dest"}) {
    if (id.contains(key)) {
      return id.value(key, "");
    }
  }
  return "";
}

nlohmann::json payload_identity(const LockedSource& source) {
  const SourceKind* k = find_source_kind(source.kind, source.identity);
  return k != nullptr && k->payload_identity != nullptr ? k->payload_identity(source.identity) : source.identity;
}

}  // namespace airlock::bundler
