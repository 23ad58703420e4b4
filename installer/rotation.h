#pragma once
// Key rotation carried in a bundle (the header's "trust" change): keys to
// add, key ids to revoke, a new threshold. The gate checks it against the
// site's trust store before anything is written (check_trust_change), after
// the bundle's signatures were verified against the policy as it stands, so
// a rotation always needs a threshold of the old keys. install applies it
// once the version is committed, and again (idempotently) when the same
// bundle is installed a second time, which completes a rotation that a crash
// cut short.

#include <string>

#include "core/base/error.h"
#include "core/format/index.h"
#include "installer/site.h"

namespace airlock::installer {

// kUntrusted (exit 3) naming the problem if the change cannot apply: it adds
// a revoked key, reuses a trusted name for another key, or would leave fewer
// trusted keys than the threshold. Returns a one-line summary otherwise.
Result<std::string> check_trust_change(Site& site, const format::TrustChange& change);

// Adds, sets the threshold, revokes, in that order; skips what is already
// done; logs a "trust-rotate" event for `target` (NAME/VERSION).
Status apply_trust_change(Site& site, const format::TrustChange& change, const std::string& target);

}  // namespace airlock::installer
