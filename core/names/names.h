#pragma once
// The one set of rules for the names a bundle carries that become entries of
// the installer's layout (docs/ARCHITECTURE.md; FILES in airlock-installer(1)): the deployment
// name (ROOT/deployments/NAME), the version (ROOT/deployments/NAME/VERSION,
// beside the `current` symlink), a Hugging Face repo, revision and commit
// (ROOT/hf/models--ORG--NAME/refs/REVISION, snapshots/COMMIT), image refs
// (ROOT/images/index.json, docker-archive RepoTags) and the file names that
// become entries of ROOT/apt and ROOT/wheels.
//
// A name passes only when it can never collide with what the layout itself
// keeps there: `current`, `.` and `..`, the `.tmp-` files of atomic writes,
// dot-files, a '/' where one path component is made, NUL and control bytes.
// The manifest (core/manifest), the bundle reader (index.cc, payload.cc) and
// the installer's targets all ask these functions, so what the bundler makes
// is what the installer accepts.

#include <string>
#include <string_view>

namespace airlock::format::names {

// Entries the installer keeps beside versions in ROOT/deployments/NAME.
inline constexpr std::string_view k_current = "current";
inline constexpr std::string_view k_temp_marker = ".tmp-";

// [a-z0-9._-]{1,128}; not "." or "..", no leading '.', no ".tmp-".
bool is_deployment_name(std::string_view name);
// [A-Za-z0-9._+-]{1,128}; not "." or "..", no leading '.', no ".tmp-", not
// "current".
bool is_version(std::string_view version);
// One component of a path the installer makes (a file in ROOT/apt or
// ROOT/wheels): 1..255 bytes, no '/', NUL or control byte, not "." or "..",
// no leading '.' (dot-files there are the layout's own, or its temp files).
bool is_target_file_name(std::string_view name);
// No byte below 0x20 and no DEL.
bool has_no_control(std::string_view s);

// Hugging Face repo id "ORG/NAME" or "NAME": parts of [A-Za-z0-9._-]{1,96},
// not "." or "..", no "--" (the cache folder is models--ORG--NAME) and no
// leading '.'.
bool is_hf_repo(std::string_view repo);
// A git commit as the Hub names it: 40 lowercase hex digits.
bool is_hf_commit(std::string_view commit);
// A revision, written as ROOT/hf/.../refs/REVISION: '/'-separated components
// of [A-Za-z0-9._-], none empty, "." or "..", or starting with '.'; at most
// 200 bytes; and not below "main" ("main/x" would need refs/main, the file,
// to be a directory).
bool is_hf_revision(std::string_view revision);

// An image reference as the bundler writes it ("REG/REPO:TAG",
// "REG/REPO@sha256:HEX"): 1..512 bytes of [A-Za-z0-9._/:@-], '/'-separated
// components each starting with a letter or digit (so none is empty, "."
// or "..", even before a ":tag").
bool is_image_ref(std::string_view ref);
// "sha256:" + 64 lowercase hex digits.
bool is_sha256_digest(std::string_view digest);

// For messages: the name with control bytes escaped, cut at 80 bytes.
std::string printable(std::string_view name);

}  // namespace airlock::format::names
