#pragma once
// Everything a bundle must pass before a byte of it is used: the index
// parses within its caps, enough trusted keys signed it, it has not expired,
// its sequence is newer than any seen for the deployment (anti-replay), it is
// addressed to this site (or the passphrase opens it), and its payload
// manifest decrypts and validates. Shared by `verify` and `install`.

#include <filesystem>
#include <optional>
#include <vector>
#include <string>

#include "core/format/bundle_reader.h"
#include "installer/site/site.h"

namespace airlock::installer {

struct Admitted {
  format::OpenedIndex opened;
  format::Payload payload;
  std::optional<crypto::AeadKey> key;
  std::vector<std::string> signers;
  bool already_installed = false;  // this bundle id, with these index bytes, is installed
  std::vector<std::string> notes;  // for the operator: volumes found under names a medium's file system made
};

struct GateOptions {
  std::optional<std::string> passphrase;
  bool allow_unencrypted = false;
  // Directories holding the bundle's other media (install DIR1 DIR2 ...):
  // each must hold the same index (format::add_media_dirs).
  std::vector<std::filesystem::path> more_media;
};

// The first step of admit, alone (verify --medium): the index read within
// its caps, refused on the envelope's key ids before its body is read, and
// signed by a threshold of this site's trusted, unrevoked keys.
struct SignedIndex {
  format::OpenedIndex opened;
  std::vector<std::string> signers;
};
Result<SignedIndex> open_signed_index(Site& site, const std::filesystem::path& bundle);

Result<Admitted> admit(Site& site, const std::filesystem::path& bundle, const GateOptions& options);

}  // namespace airlock::installer
