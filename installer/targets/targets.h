#pragma once
// The install targets (FILES in installer/manual.md, airlock-installer(1)): where standard tools find what the
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
//
// Ownership: the ledger records every entry Airlock created there
// (target_entries); a rebuild removes only recorded entries that are no
// longer wanted. Anything else (another models--* repo, .locks, notes, a
// foreign wheel) is left alone and listed in TargetsSummary::left_alone.
//
// Names are content: an HF blob is linked only from a file whose signed
// SHA-256 matches its name (LFS: the name is that SHA-256; otherwise the name
// is the git blob SHA-1 of the installed bytes, recomputed once per signed
// SHA-256), an OCI blob only from a file whose signed SHA-256 is its name.
// A version that fails this is left out of that target, with a note. Two
// versions claiming one name (a .deb, a wheel, an image ref, refs/main or a
// snapshot of one repo and commit) with different bytes is a conflict: the
// bytes already linked (recorded) stay, else the first installed; the other
// is not linked and the conflict is reported by name (TargetsSummary::
// conflicts). target_conflicts() finds them before an activation.
//
// HF refs: refs/main follows the active version of each repo; a version
// pinned to another revision (a tag or branch) keeps refs/<revision> while
// its snapshot is installed, active or not (the active version's wins).

#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "installer/site/site.h"

namespace airlock::installer {

struct TargetsSummary {
  std::vector<std::string> models;  // "ORG/NAME@COMMIT (ROOT/hf)" per repo with an active ref
  std::size_t snapshots = 0;
  std::size_t images = 0;
  std::size_t debs = 0;
  bool apt_signed = false;
  std::size_t wheels = 0;
  std::vector<std::string> notes;      // things left out, and why
  std::vector<std::string> conflicts;  // a name two deployments ship with different bytes: who kept it
  // Per conflict, the deployments: (whose bytes stay, whose are not linked).
  std::vector<std::pair<std::string, std::string>> conflict_parties;
  std::vector<std::string> left_alone; // absolute paths under the targets that Airlock did not create
};

// Marks the targets stale (before a change of active version).
Status mark_targets_dirty(const Site& site);
bool targets_dirty(const Site& site);
// Clears the mark again when the change it announced did not happen.
Status clear_targets_dirty(const Site& site);

// Rebuilds all four targets from the ledger, then clears the mark. A
// version whose recorded names or sources no target can be built from is
// left out with a note, never an error; errors are the file system's.
Result<TargetsSummary> sync_targets(Site& site);

// After a committed change, a failed rebuild is no reason to fail what the
// ledger already records: the targets are derived, the mark stays, and every
// later command retries (install/recover.h). This says so, with the cause.
std::string targets_retry_text(const Error& error);
// "ROOT/hf, ROOT/images, ROOT/apt and ROOT/wheels": every target, for messages.
std::string target_dirs_text();

// The conflicts (see above) that deployment `name`, as the ledger now
// records it, would lose: kInvalidArgument naming the entry and both
// deployments, nothing changed on disk. Called inside the transaction that
// activates a version, so a conflicting newcomer is refused before anything
// changes.
Status target_conflicts(Site& site, const std::string& name);

// A shipped images/index.json (a file of the bundle, not decoded with the
// payload) checked as the targets read it: an OCI index whose descriptors
// carry sha256 digests and, as ref names, image references of
// core/names/names.h. kCorruption naming the file; install runs it on the
// staged copy before the commit, so a bundle that fails is refused (exit 3).
Status check_image_index(const std::filesystem::path& index_json);

// install --load RUNTIME: hands NAME/VERSION's images to podman or docker
// as a docker-archive tar (`RUNTIME load -i`), written in staging and
// removed afterwards. kNotFound when the runtime is not installed.
Status load_images(Site& site, const std::string& name, const std::string& version, const std::string& runtime,
                   const std::function<void(const std::string&)>& say);

// The git blob id of a file: SHA-1 over "blob <size>\0" and its bytes (the
// name huggingface_hub gives a non-LFS file's blob).
Result<std::string> git_blob_sha1(const std::filesystem::path& path);

// The synthetic Hugging Face identity of a model shipped from a local
// directory: repo "airlock/NAME", commit = the first 40 hex digits of a
// SHA-256 over its sorted (path, sha256) list, so the same files give the
// same commit.
std::string local_model_commit(const std::vector<std::pair<std::string, std::string>>& path_and_sha256);

}  // namespace airlock::installer
