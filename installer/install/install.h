#pragma once
// The install transaction: staged -> verified -> installed -> active.
//   1. admit (gate.h): signature, expiry, replay, site key, manifest.
//   2. stage: ROOT/staging/BUNDLE_ID/tree, every file reserved at full size,
//      filled from the volumes in one sequential pass, every chunk verified
//      before it is written and every file re-hashed as a whole; files that
//      are unchanged from the active version are hardlinked to it (after
//      re-hashing the old copy).
//   3. install: files made read-only and fsynced, the tree renamed to
//      deployments/NAME/VERSION, the ledger commits the version.
//   4. activate: the ledger records the new active version, then
//      deployments/NAME/current is switched by an atomic rename, the install
//      targets (targets.h) are rebuilt and the [activate] commands run
//      (activation.h); if they fail, the previous version is re-activated.
// A crash anywhere leaves the previous version active; recover() (recover.h)
// finishes or undoes the rest on the next command.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "core/base/progress.h"
#include "core/base/timings.h"
#include "installer/admit/gate.h"
#include "installer/install/media_drive.h"
#include "installer/site/site.h"

namespace airlock::installer {

struct InstallOptions {
  bool activate = true;
  GateOptions gate;
  ProgressFn progress;
  std::size_t threads = 0;  // frame workers; 0 = one per core
  Timings* timings = nullptr;
  bool roll_back_on_failure = true;                 // an activation that fails re-activates the previous version
  std::function<void(const std::string&)> say;      // activation progress lines
  std::string load;                                 // "podman" or "docker": load the images into it
  // install --media-path: volumes come from one drive, medium by medium.
  std::optional<DriveOptions> drive;
};

struct InstallOutcome {
  std::string name;
  std::string version;
  std::string bundle_id;
  bool already_installed = false;
  bool activated = false;
  bool trust_changed = false;  // the bundle carried a key rotation, now applied
  // already_installed and the bundle carries a key rotation: how the ledger
  // settled it once ("applied", "superseded"); it is never applied again.
  std::optional<std::string> rotation_state;
  std::optional<std::string> previous;  // the version active before
  std::size_t files = 0;
  std::size_t linked = 0;  // hardlinked from the previous version
  std::uint64_t bytes = 0;
  std::vector<std::string> signers;
  // Where the bytes came from: volumes read from the media, and for a delta
  // bundle the base it was rebuilt from, the bytes of chunks read back from
  // it, and of chunks rebuilt from XOR frames against it.
  std::uint64_t media_bytes = 0;
  std::optional<std::string> base;  // "NAME VERSION (bundle ID)"
  std::uint64_t base_bytes = 0;
  std::uint64_t xor_bytes = 0;
};

// Installs stopped between volumes and kept to resume (ROOT/staging/ID/
// resume.json), as their records say: unverified, for status to show.
struct PendingInstall {
  std::string bundle_id;
  std::string deployment;
  std::string version;
  std::size_t staged = 0;
  std::size_t volumes = 0;
};
std::vector<PendingInstall> pending_installs(Site& site);

Result<InstallOutcome> install_bundle(Site& site, const std::filesystem::path& bundle, const InstallOptions& options);

struct VerifyOutcome {
  std::string name;
  std::string version;
  bool already_installed = false;
  std::size_t files = 0;
  std::uint64_t volume_bytes = 0;
  std::vector<std::string> signers;
  std::size_t shipped_files = 0;       // shipped installer files checked (create --with-installer)
  std::size_t shipped_signatures = 0;  // their detached signatures verified by trusted keys
  std::vector<std::string> notes;      // volumes found under names a medium's file system made
};

// Everything install does short of writing a byte, and the installers
// shipped with the bundle (format::check_shipped_installers), which install
// does not read.
Result<VerifyOutcome> verify_bundle(Site& site, const std::filesystem::path& bundle, const GateOptions& gate,
                                    const ProgressFn& progress, std::size_t threads = 0,
                                    Timings* timings = nullptr);

struct MediumOutcome {
  format::OpenedIndex opened;
  std::vector<std::string> signers;
  format::MediumCheck check;
};

// verify --medium DIR: one medium of a bundle, before anything is
// installed: the index's signatures by the keys this site trusts, and the
// SHA-256 of every volume on the medium (format::check_medium). Needs no
// site key and decrypts nothing.
Result<MediumOutcome> verify_medium(Site& site, const std::filesystem::path& dir, const ProgressFn& progress);

}  // namespace airlock::installer
