#pragma once
// The installer's root directory (FILES in installer/manual.md, airlock-installer(1)) and what lives in it: the
// ledger, the site key, the trusted publisher keys, staging, deployments.
// Bringing the file system back in line with the ledger after an interrupted
// install or activation is install/recover.h, run by every command.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/format/bundle_reader.h"
#include "installer/ledger/ledger.h"
#include "installer/site/os.h"
#include "keys/trust.h"

namespace airlock::installer {

namespace stdfs = std::filesystem;

// The install targets' folders under ROOT (targets/targets.h), in rebuild
// order: the names of the Target table (targets/internal.h).
inline constexpr std::array<std::string_view, 4> k_target_names = {"hf", "images", "apt", "wheels"};

// --root, else $AIRLOCK_ROOT, else /var/lib/airlock.
stdfs::path resolve_root(const std::string& option);

class Site {
 public:
  // kNotFound with the fix in the message when ROOT was never initialised.
  // `os` (installer/site/os.h) must outlive the Site.
  static Result<std::unique_ptr<Site>> open(const stdfs::path& root, const Os& os);
  // Creates the layout, the ledger and the site key pair; refuses an existing ledger.
  static Result<std::unique_ptr<Site>> init(const stdfs::path& root, const Os& os);

  const stdfs::path& root() const { return m_root; }
  stdfs::path staging_dir() const { return m_root / "staging"; }
  stdfs::path deployments_dir() const { return m_root / "deployments"; }
  stdfs::path deployment_dir(const std::string& name) const { return deployments_dir() / name; }
  stdfs::path version_dir(const std::string& name, const std::string& version) const {
    return deployment_dir(name) / version;
  }
  stdfs::path keys_dir() const { return m_root / "keys"; }

  ~Site();
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  // One command at a time changes ROOT: an exclusive flock on ROOT/lock,
  // held until this Site is destroyed (the kernel drops it if we die).
  // kIOError naming the root when another command holds it.
  Status lock_exclusive();

  Ledger& ledger() { return *m_ledger; }
  // The seams every command reaches the OS through (installer/site/os.h).
  const os::Clock& clock() const { return m_os.clock; }
  os::FileSystem& files() const { return m_os.files; }
  os::ProcessRunner& processes() const { return m_os.processes; }
  // Publisher keys (sign bundles) and root keys (also sign key rotations,
  // once there are any); see keys/trust.h.
  keys::TrustStore trust_store() const {
    return keys::TrustStore(keys_dir() / "trusted", keys_dir() / "policy.json");
  }
  keys::TrustStore root_store() const {
    return keys::TrustStore(keys_dir() / "root", keys_dir() / "root-policy.json");
  }
  Result<format::SiteKey> site_key() const;
  // The site's own Ed25519 signing key (keys/site-signing.key, 0600, and
  // keys/site-signing.pub; formats of keys/key_files.h), which signs the
  // have-lists of `have --export`. init makes it; a root initialised before
  // it existed gets one here, on first use (a "site-signing-key" event;
  // *created says so). A damaged or unreadable file, only one of the two, or
  // a .pub that is not the .key's half is an error naming the file: never
  // replaced, since the connected side may already hold the .pub.
  Result<format::Signer> site_signing_key(bool* created = nullptr);
  stdfs::path site_signing_key_path() const { return keys_dir() / "site-signing.key"; }
  stdfs::path site_signing_pub_path() const { return keys_dir() / "site-signing.pub"; }

  // Appends an event as the current user at the current time.
  Status log(const std::string& action, const std::string& target, const std::string& result,
             const std::string& detail);

  // Points deployments/NAME/current at VERSION (atomic rename).
  Status switch_current(const std::string& name, const std::string& version);
  // Removes deployments/NAME/current (no version active).
  Status clear_current(const std::string& name);


 private:
  Site(stdfs::path root, std::unique_ptr<Ledger> ledger, const Os& os)
      : m_root(std::move(root)), m_ledger(std::move(ledger)), m_os(os) {}
  stdfs::path m_root;
  std::unique_ptr<Ledger> m_ledger;
  Os m_os;
  int m_lock_fd = -1;
};

std::string current_user();

}  // namespace airlock::installer
