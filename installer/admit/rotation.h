#pragma once
// Key rotation carried in a bundle (the header's "trust" change): keys to
// add, key ids to revoke, a new threshold. The gate checks it against the
// site's trust store before anything is written (check_trust_change), after
// the bundle's signatures were verified against the policy as it stands, so
// a rotation always needs a threshold of the old keys.
//
// A rotation applies once. install records it as 'pending' in the ledger
// (by bundle id and index hash) inside the version's commit transaction,
// then applies it and marks it 'applied' in one transaction with its
// trust-rotate event. A crash in between leaves it pending, and the next
// command's recover() settles it (settle_pending_rotations). It is applied
// only while the trust policy is still the one it was admitted under (the
// ledger's trust generation): once the operator has changed trust since
// (trust add/remove/threshold/revoke), it is 'superseded', reported and
// never applied. Installing the same bundle again applies nothing.

#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/format/index.h"
#include "installer/site/site.h"

namespace airlock::installer {

// kUntrusted (exit 3) naming the problem if the change cannot apply: it adds
// a revoked key, reuses a trusted name for another key, or would leave fewer
// trusted keys than the threshold. Returns a one-line summary otherwise.
Result<std::string> check_trust_change(Site& site, const format::TrustChange& change);

// The change as stored in the ledger's rotations table (the header's "trust"
// JSON shape), and back; kCorruption naming the field if it is malformed.
std::string trust_change_json(const format::TrustChange& change);
Result<format::TrustChange> parse_trust_change_json(const std::string& text);

// Records the header's rotation as pending, under the current trust
// generation. Call inside the install's commit transaction.
Status record_pending_rotation(Site& site, const format::Header& header, const std::string& index_sha256);

struct Settled {
  bool applied = false;  // false: superseded (reported, never applied)
  std::string line;      // what was done, or why not
};

// Settles one pending rotation: applies it (adds, sets the threshold,
// revokes, in that order, skipping what is already done, so a rotation a
// crash cut short is completed) and marks it applied with a trust-rotate
// event, when the trust generation is still the recorded one and the change
// still checks; otherwise marks it superseded with a "refused" trust-rotate
// event. An I/O error leaves it pending (recover() retries).
Result<Settled> settle_rotation(Site& site, const RotationRecord& rotation);

// For recover(): settles every pending rotation; a line for each.
Result<std::vector<std::string>> settle_pending_rotations(Site& site);

}  // namespace airlock::installer
