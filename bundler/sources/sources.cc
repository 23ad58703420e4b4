#include "bundler/sources/sources.h"

namespace airlock::bundler {

Result<std::vector<net::FetchItem>> fetch_items(const LockedSource& source, const ResolveContext& ctx) {
  if (source.kind == "model" && source.identity.contains("repo")) {
    return hf_fetch_items(source, ctx);
  }
  if (source.kind == "image") {
    return oci_fetch_items(source, ctx);
  }
  // Plain downloads (apt, wheels): no credentials; the hash from the lock
  // decides. Each resolver records in "insecure" whether plain http is
  // allowed (for apt also when signed-by authenticates the metadata).
  const bool insecure = source.identity.value("insecure", false);
  std::string label;
  if (source.kind == "deb") {
    label = source.identity.value("repo", std::string("apt repository"));
  } else if (source.kind == "wheels") {
    label = source.identity.value("index", std::string("python index"));
  } else {
    label = source.kind;
  }
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

}  // namespace airlock::bundler
