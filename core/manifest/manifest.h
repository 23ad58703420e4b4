#pragma once
// The deployment manifest (TOML; reference: docs/MANIFEST.md, airlock-manifest(5)): what to ship.
// Parsing is strict: an unknown table or key is an error naming it, so a
// typo never silently drops a part of a deployment.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace airlock::manifest {

struct ModelSpec {
  std::string source;                 // local directory (resolved) or "hf://ORG/NAME"
  bool is_hub() const { return source.starts_with("hf://"); }
  std::optional<std::string> revision;
  std::vector<std::string> include;   // globs on the path inside the model
  std::vector<std::string> exclude;
  // Ship weights that run code when loaded (pickle: *.bin, *.pt, ... or a
  // torch.save zip) / a repo with custom code (auto_map, *.py); refused
  // otherwise. Either is recorded in the bundle and shown by inspect.
  bool allow_pickle = false;
  bool allow_remote_code = false;
};

// [[image]]: an OCI image to pull from a registry.
struct ImageSpec {
  std::string ref;                      // "HOST[:PORT]/NAME:TAG" or "...@sha256:HEX"; Docker Hub short forms allowed
  std::string platform = "linux/amd64";  // OS/ARCH[/VARIANT], picked from an index
  bool insecure = false;                 // allow plain HTTP to a registry that is not on loopback
};

// [[deb]]: packages from one apt repository, with their dependencies.
struct AptSpec {
  std::string repo;                     // base URL ("https://host/debian" or a flat repo URL ending in '/')
  std::string suite;                    // empty: a flat repository (Release and Packages under repo)
  std::vector<std::string> components;  // with a suite; default {"main"}
  std::vector<std::string> packages;    // "NAME" or "NAME=VERSION"
  std::string architecture = "amd64";
  std::optional<std::filesystem::path> signed_by;  // keyring for gpgv (resolved against the manifest's directory)
  bool insecure = false;                // allow plain HTTP without signed-by to a host that is not on loopback
};

// [[wheels]]: Python wheels pinned by hash in a requirements file.
struct WheelsSpec {
  std::string index;                    // PEP 503/691 simple index URL
  std::filesystem::path requirements;   // resolved against the manifest's directory
  bool insecure = false;                // allow plain HTTP to an index that is not on loopback
};

struct FilesSpec {
  std::filesystem::path source;  // resolved against the manifest's directory
  std::string dest;              // relative, '/'-separated, no '..'
};

struct ActivateSpec {
  std::vector<std::string> run;
  std::optional<std::string> health;
  std::uint32_t timeout_seconds = 120;
  bool shell = false;
};

struct Manifest {
  std::string name;
  std::string version;
  std::optional<ModelSpec> model;
  std::vector<ImageSpec> images;
  std::vector<AptSpec> apt;
  std::vector<WheelsSpec> wheels;
  std::vector<FilesSpec> files;
  std::optional<ActivateSpec> activate;
  std::filesystem::path path;  // the manifest file itself
};

// Parses and validates; errors name the manifest file, the table and the key.
Result<Manifest> parse_manifest(const std::filesystem::path& path);
Result<Manifest> parse_manifest_text(std::string_view text, const std::filesystem::path& path);
// As above, with relative sources found under base_dir (not path's folder).
Result<Manifest> parse_manifest_text(std::string_view text, const std::filesystem::path& path,
                                     const std::filesystem::path& base_dir);

// core/names/names.h: [a-z0-9._-]+ / [A-Za-z0-9._+-]+, never a layout entry
// ("." "..", a leading '.', ".tmp-", and for versions "current").
bool is_valid_name(std::string_view name);
bool is_valid_version(std::string_view v);
// A relative path with no empty, "." or ".." components and no NUL.
bool is_safe_relative_path(std::string_view path);
// "30s", "15m", "12h", "90d", "2w" or plain seconds.
Result<std::int64_t> parse_duration_seconds(std::string_view text);

}  // namespace airlock::manifest
