#pragma once
// A set of trusted keys in one role, and its signature threshold. A site has
// two: publisher keys (ROOT/keys/trusted/NAME.pub, policy ROOT/keys/
// policy.json), which sign bundles, and root keys (ROOT/keys/root/NAME.pub,
// policy ROOT/keys/root-policy.json), which, once a site has any, must also
// sign every bundle that carries a key rotation. An index passes a store when
// at least `threshold` distinct keys of it (counted once each by their
// public-key bytes) signed it. Revoked keys (ROOT/keys/revoked/) are shared.

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
  TrustStore(std::filesystem::path dir, std::filesystem::path policy)
      : m_dir(std::move(dir)), m_policy(std::move(policy)) {}

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

  // How many distinct keys of this store must sign: the "threshold" of its
  // policy file, 1 when there is none. kCorruption naming the file if it is
  // malformed.
  Result<std::size_t> threshold() const;
  // kInvalidArgument unless 1 <= n <= the number of trusted keys (a higher
  // threshold would refuse every bundle).
  Status set_threshold(std::size_t n);
  const std::filesystem::path& policy_path() const { return m_policy; }

 private:
  // kInvalidArgument if dropping `name` from `trusted` keys would leave fewer
  // than a threshold above 1.
  Status check_not_undercut(std::string_view doing, const std::string& name, std::size_t trusted) const;

  std::filesystem::path m_dir;
  std::filesystem::path m_policy;
};

struct SignatureCheck {
  std::vector<std::string> signers;  // names of the trusted keys whose signatures verified
};

// kBadSignature when a trusted key's signature does not verify (the index was
// altered), kUntrusted when too few trusted keys signed; the message names
// untrusted signers and revoked keys whose signatures were not counted.
Result<SignatureCheck> check_signatures(const format::OpenedIndex& opened, const std::vector<TrustedKey>& trusted,
                                        std::size_t threshold = 1, const std::vector<TrustedKey>& revoked = {});

// The part of check_signatures the key ids alone decide, before the body is
// read (format::open_index's before_body): kUntrusted, with check_signatures'
// message, when fewer than `threshold` distinct trusted, unrevoked keys are
// named in the envelope. An unsigned index is refused without reading its
// body, however large a body it claims.
Status check_signers_named(const format::OpenedIndex& opened, const std::vector<TrustedKey>& trusted,
                           std::size_t threshold = 1, const std::vector<TrustedKey>& revoked = {});

// For the bundler's verify: the same check against explicit public keys.
Result<SignatureCheck> check_signatures_with(const format::OpenedIndex& opened, const std::vector<PublicKey>& keys);
Status check_signers_named_with(const format::OpenedIndex& opened, const std::vector<PublicKey>& keys);

}  // namespace airlock::keys
