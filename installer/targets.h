#pragma once
// The install targets (DESIGN.md §5): where standard tools find what the
// active versions shipped, with no airlock in the loop.
//
//   ROOT/hf/       Hugging Face cache (HF_HUB_CACHE): models--ORG--NAME/
//                  blobs/<sha256 | git sha1>, snapshots/<commit>/<path> as
//                  relative symlinks into blobs, refs/main (and refs/<rev>)
//                  holding the active version's commit, no newline. Every
//                  installed version keeps its snapshot; refs follow the
//                  active one, so rollback moves refs/main back.
//   ROOT/images/   one OCI image layout (oci-layout, index.json, blobs/) of
//                  the active versions' images, plus the docker-archive
//                  manifest.json that `docker load` / `podman load` read.
//   ROOT/apt/      a flat apt repository: the .debs, Packages, Packages.gz,
//                  Release (+ InRelease, Release.gpg when ROOT/keys/apt is a
//                  GnuPG home with a secret key).
//   ROOT/wheels/   the wheels, for pip --no-index --find-links.
//
// Files are hardlinks to the read-only installed copies, so a blob shared by
// versions or deployments is stored once. Everything is rebuilt from the
// ledger (the payload `sources` kept per version) and is idempotent: a crash
// part way leaves ROOT/targets.dirty, and the next command rebuilds.

#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "installer/site.h"

namespace airlock::installer {

struct TargetsSummary {
  std::vector<std::string> models;  // "ORG/NAME@COMMIT (ROOT/hf)" per repo with an active ref
  std::size_t snapshots = 0;
  std::size_t images = 0;
  std::size_t debs = 0;
  bool apt_signed = false;
  std::size_t wheels = 0;
  std::vector<std::string> notes;  // things left out, and why
};

// Marks the targets stale (before a change of active version).
Status mark_targets_dirty(const Site& site);
bool targets_dirty(const Site& site);

// Rebuilds all four targets from the ledger, then clears the mark. A
// version whose recorded names or sources no target can be built from is
// left out with a note, never an error; errors are the file system's.
Result<TargetsSummary> sync_targets(Site& site);

// After a committed change, a failed rebuild is no reason to fail what the
// ledger already records: the targets are derived, the mark stays, and every
// later command retries (Site::recover). This says so, with the cause.
std::string targets_retry_text(const Error& error);

// A shipped images/index.json (a file of the bundle, not decoded with the
// payload) checked as the targets read it: an OCI index whose descriptors
// carry sha256 digests and, as ref names, image references of
// core/format/names.h. kCorruption naming the file; install runs it on the
// staged copy before the commit, so a bundle that fails is refused (exit 3).
Status check_image_index(const std::filesystem::path& index_json);

// install --load RUNTIME: hands NAME/VERSION's images to podman or docker
// as a docker-archive tar (`RUNTIME load -i`), written in staging and
// removed afterwards. kNotFound when the runtime is not installed.
Status load_images(Site& site, const std::string& name, const std::string& version, const std::string& runtime,
                   const std::function<void(const std::string&)>& say);

// The synthetic Hugging Face identity of a model shipped from a local
// directory: repo "airlock/NAME", commit = the first 40 hex digits of a
// SHA-256 over its sorted (path, sha256) list, so the same files give the
// same commit.
std::string local_model_commit(const std::vector<std::pair<std::string, std::string>>& path_and_sha256);

}  // namespace airlock::installer
