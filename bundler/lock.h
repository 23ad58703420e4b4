#pragma once
// The lock (manifest.lock.json): every source resolved to exact identities
// and every file that will ship, with its origin, size and SHA-256.
// `create` and `fetch` take a manifest (resolved in memory) or a lock (used
// as is: nothing is re-resolved). The sources part travels, signed, in the
// bundle's payload (`sources`), so the installer can rebuild each tool's
// layout (HF cache, OCI layout, apt repo, wheelhouse). Shape in docs/FORMAT.md.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/manifest/manifest.h"

namespace airlock::bundler {

inline constexpr int k_lock_version = 1;

struct LockedFile {
  std::string path;     // inside the deployment: "model/…", "images/blobs/sha256/…", "debs/….deb", "wheels/….whl"
  std::string origin;   // "https://…"/"http://…": downloaded; "inline": `content` below; else a local path
  std::uint64_t size = 0;
  std::string sha256;   // lowercase hex
  std::uint32_t mode = 0644;
  std::string content;  // origin "inline" only: the bytes (small generated files: OCI index.json)
  nlohmann::json extra = nlohmann::json::object();  // per kind, e.g. {"git_sha1": …, "lfs": true}

  bool is_remote() const { return origin.starts_with("https://") || origin.starts_with("http://"); }
  bool is_inline() const { return origin == "inline"; }
};

// kind: "model" (identity {source, repo, revision, commit, endpoint} for the
// Hub; {source} for a local directory), "image" ({ref, platform, digest,
// media_type, index_digest?, insecure}), "oci-layout" (the shared index.json
// and oci-layout files), "deb" ({repo, suite, components, architecture,
// requested, packages:[{package, version, architecture, sha256, filename}]}),
// "wheels" ({index, requirements:[{name, version, hashes}]}), "files" ({dest}).
struct LockedSource {
  std::string kind;
  nlohmann::json identity = nlohmann::json::object();
  std::vector<LockedFile> files;
};

struct Lock {
  std::string name;
  std::string version;
  nlohmann::json activate;   // null or the [activate] table, as the payload carries it
  std::vector<LockedSource> sources;
};

// Local origins are written relative to the lock's directory and resolved
// against it when read, so a lock moves with its checkout.
nlohmann::json lock_to_json(const Lock& lock, const std::filesystem::path& lock_dir);
Result<Lock> lock_from_json(const nlohmann::json& j, const std::filesystem::path& lock_dir, std::string_view what);
Status write_lock(const Lock& lock, const std::filesystem::path& path);  // atomic
// The payload's `sources`: identities and files (path, origin, size, sha256, extra), no local paths.
nlohmann::json sources_for_payload(const Lock& lock);
// A manifest or lock as given on the command line, read exactly once
// (is_lock: a .json name, or JSON text rather than TOML): a pipe
// (`/dev/stdin`, `<(...)`) can be read only once, so deciding what it is and
// parsing it must share these bytes. Relative paths inside are resolved
// against base_dir: the file's folder, or the working directory for a pipe.
struct InputText {
  std::filesystem::path path;
  std::string text;
  bool is_lock = false;
  std::filesystem::path base_dir;
};
// kNotFound naming the path when it cannot be opened; kInvalidArgument when
// it is larger than max_bytes.
Result<InputText> read_input(const std::filesystem::path& path, std::uint64_t max_bytes = 64u << 20);
// The lock or manifest in `in`, parsed (a manifest is not resolved here).
Result<Lock> lock_from_input(const InputText& in);

}  // namespace airlock::bundler
