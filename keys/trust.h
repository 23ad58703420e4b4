#pragma once
// The site's trusted publisher keys (ROOT/keys/trusted/NAME.pub) and the
// signature policy: an index is accepted when at least `threshold` distinct
// trusted keys (counted once each by their public-key bytes) signed it.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/format/bundle_reader.h"
#include "keys/key_files.h"

namespace airlock::keys {

struct TrustedKey {
  std::string name;
  PublicKey key;
};

class TrustStore {
 public:
  explicit TrustStore(std::filesystem::path dir) : m_dir(std::move(dir)) {}

  // kInvalidArgument if the name is taken, the key is already trusted, or it
  // was revoked.
  Result<TrustedKey> add(const std::filesystem::path& public_key_file, const std::string& name);
  Result<TrustedKey> add_key(const PublicKey& key, const std::string& name);
  // kInvalidArgument if removing it would leave fewer keys than a threshold
  // above 1.
  Status remove(const std::string& name);
  // Like remove, and the key is remembered as revoked (ROOT/keys/revoked/
  // NAME.KEYID.pub): its signatures never count again and add() refuses it.
  Result<TrustedKey> revoke(const std::string& name);
  Result<std::vector<TrustedKey>> revoked() const;
  Result<std::vector<TrustedKey>> list() const;

  // How many distinct trusted keys must sign a bundle: the "threshold" of
  // the policy file next to the key directory (ROOT/keys/policy.json), 1 when
  // there is none. kCorruption naming the file if it is malformed.
  Result<std::size_t> threshold() const;
  // kInvalidArgument unless 1 <= n <= the number of trusted keys (a higher
  // threshold would refuse every bundle).
  Status set_threshold(std::size_t n);
  std::filesystem::path policy_path() const { return m_dir.parent_path() / "policy.json"; }

 private:
  // kInvalidArgument if dropping `name` from `trusted` keys would leave fewer
  // than a threshold above 1.
  Status check_not_undercut(std::string_view doing, const std::string& name, std::size_t trusted) const;

  std::filesystem::path m_dir;
};

struct SignatureCheck {
  std::vector<std::string> signers;  // names of the trusted keys whose signatures verified
};

// kBadSignature when a trusted key's signature does not verify (the index was
// altered), kUntrusted when too few trusted keys signed; the message names
// untrusted signers and revoked keys whose signatures were not counted.
Result<SignatureCheck> check_signatures(const format::OpenedIndex& opened, const std::vector<TrustedKey>& trusted,
                                        std::size_t threshold = 1, const std::vector<TrustedKey>& revoked = {});

// For the bundler's verify: the same check against explicit public keys.
Result<SignatureCheck> check_signatures_with(const format::OpenedIndex& opened, const std::vector<PublicKey>& keys);

}  // namespace airlock::keys
