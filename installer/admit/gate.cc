#include "installer/admit/gate.h"

#include "cli/printer.h"
#include "core/format/media_files.h"
#include "installer/admit/rotation.h"

namespace airlock::installer {

namespace {
// How far the site's clock may lag the publisher's before it counts as set
// back: clocks on isolated networks drift, and an hour of slack buys an
// attacker at most an hour of extra validity.
constexpr std::int64_t k_clock_slack = 3600;
}  // namespace

Result<SignedIndex> open_signed_index(Site& site, const std::filesystem::path& bundle) {
  ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> trusted, site.trust_store().list());
  ASSIGN_OR_RETURN(std::size_t threshold, site.trust_store().threshold());
  ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> revoked, site.trust_store().revoked());
  SignedIndex out;
  // Refused on the envelope's key ids alone, before the body is read: an
  // unsigned index costs no memory, whatever body size it claims.
  ASSIGN_OR_RETURN(out.opened, format::open_index(bundle, [&](const format::OpenedIndex& o) -> Status {
                     if (trusted.empty()) {
                       return make_error(ErrorCode::kUntrusted,
                                         "{}: this site trusts no publisher key yet; add one with "
                                         "'airlock-installer trust add KEY.pub'",
                                         o.index_path.filename().string());
                     }
                     return keys::check_signers_named(o, trusted, threshold, revoked);
                   }));
  ASSIGN_OR_RETURN(keys::SignatureCheck check, keys::check_signatures(out.opened, trusted, threshold, revoked));
  out.signers = check.signers;
  return out;
}

Result<Admitted> admit(Site& site, const std::filesystem::path& bundle, const GateOptions& options) {
  Admitted a;
  ASSIGN_OR_RETURN(SignedIndex signed_index, open_signed_index(site, bundle));
  a.opened = std::move(signed_index.opened);
  a.signers = std::move(signed_index.signers);
  TRY(format::add_media_dirs(a.opened, options.more_media));
  const format::Header& h = a.opened.header;
  std::string index_name = a.opened.index_path.filename().string();

  ASSIGN_OR_RETURN(auto existing, site.ledger().find_bundle(h.bundle_id));
  if (existing && existing->state == "installed") {
    // The same bundle means the same index bytes, not only the same id: an
    // index re-signed or edited under an installed bundle's id is not that
    // bundle. (Versions recorded before ledger schema 3 have no hash; a
    // re-insert of those applies nothing either.)
    if (!existing->index_sha256.empty() && existing->index_sha256 != a.opened.index_sha256) {
      return make_error(ErrorCode::kReplayed,
                        "{}: replay refused: bundle {} is installed here as {} {} from an index with SHA-256 {}, "
                        "but this index hashes to {}: the same bundle id with different bytes (re-signed or "
                        "altered) is refused; a change needs a new bundle with a higher sequence",
                        index_name, h.bundle_id, existing->deployment, existing->version, existing->index_sha256,
                        a.opened.index_sha256);
    }
    a.already_installed = true;
  }
  // An installed bundle's rotation was applied (or superseded) once and is
  // never applied again, so only a bundle still to install is checked for it.
  if (h.trust && !a.already_installed) {
    // A rotation made before the operator last changed trust by hand was
    // written against a policy that no longer holds: applying it would undo
    // that change (re-trust a key removed as stolen, lower a threshold).
    ASSIGN_OR_RETURN(std::optional<EventRecord> manual, site.ledger().last_manual_trust_change());
    if (manual && h.created < manual->time) {
      return make_error(ErrorCode::kReplayed,
                        "{}: key rotation refused: bundle {} {} was created at {} (unix {}), before this site's "
                        "trust policy was last changed by hand ({} {} at {}, event {}); an older rotation would undo "
                        "that change. Ask the publisher for a bundle made now, or change trust with "
                        "'airlock-installer trust'",
                        index_name, h.name, h.version, cli::iso_time(h.created), h.created, manual->action,
                        manual->target, cli::iso_time(manual->time), manual->id);
    }
    // A site with root keys wants a threshold of them on every rotation, on
    // top of the publisher signatures checked above.
    ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> roots, site.root_store().list());
    if (!roots.empty()) {
      ASSIGN_OR_RETURN(std::size_t root_threshold, site.root_store().threshold());
      ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> revoked, site.trust_store().revoked());
      auto root_check = keys::check_signatures(a.opened, roots, root_threshold, revoked);
      if (!root_check) {
        return make_error(root_check.error().code(), "key rotation needs {} root key signature(s): {}",
                          root_threshold, root_check.error().message());
      }
    }
    // Signed by enough of the keys trusted now: the rotation may go ahead if
    // it leaves a usable policy (applied by install, after the commit).
    auto summary = check_trust_change(site, *h.trust);
    if (!summary) {
      return std::unexpected(Error(summary.error()).with_context(index_name));
    }
  }

  // The clock is checked against the time floor (the newest creation time of
  // any bundle this site has recorded) and against this bundle's own creation
  // time: a clock found more than k_clock_slack behind either was set back
  // (or never set), and expiry measured by it would mean nothing.
  const std::int64_t now = site.clock().now_seconds();
  ASSIGN_OR_RETURN(std::int64_t floor, site.ledger().newest_created());
  if (now < floor - k_clock_slack) {
    return make_error(ErrorCode::kExpired,
                      "{}: the system clock reads {} (unix {}), but a bundle created at {} (unix {}) was already "
                      "installed here: the clock has been set back; set it right before installing",
                      index_name, cli::iso_time(now), now, cli::iso_time(floor), floor);
  }
  if (now < h.created - k_clock_slack) {
    return make_error(ErrorCode::kExpired,
                      "{}: bundle {} {} was created at {} (unix {}), after what the system clock reads ({}); "
                      "the clock is behind: set it right before installing",
                      index_name, h.name, h.version, cli::iso_time(h.created), h.created, cli::iso_time(now));
  }
  if (h.expires && now > *h.expires) {
    return make_error(ErrorCode::kExpired, "{}: bundle {} {} expired {} seconds ago (at unix time {})", index_name,
                      h.name, h.version, now - *h.expires, *h.expires);
  }

  if (!a.already_installed) {
    ASSIGN_OR_RETURN(std::uint64_t highest, site.ledger().highest_sequence(h.name));
    if (h.sequence <= highest) {
      return make_error(ErrorCode::kReplayed,
                        "{}: replay refused: sequence {} of {} {} is not newer than the highest already seen ({}); "
                        "to go back to an installed version use 'airlock-installer rollback {}'",
                        index_name, h.sequence, h.name, h.version, highest, h.name);
    }
    ASSIGN_OR_RETURN(auto same_version, site.ledger().find_version(h.name, h.version));
    if (same_version && same_version->state == "installed") {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: {} {} is already installed from another bundle ({})", index_name, h.name, h.version,
                        same_version->bundle_id);
    }
  }

  if (h.encrypted()) {
    if (options.passphrase) {
      auto key = format::unwrap_with_passphrase(a.opened, *options.passphrase);
      if (!key) {
        return std::unexpected(Error(key.error()).with_context(index_name));
      }
      a.key = *key;
    } else {
      ASSIGN_OR_RETURN(format::SiteKey site_key, site.site_key());
      auto key = format::unwrap_with_site_key(a.opened, site_key);
      if (!key) {
        return std::unexpected(Error(key.error()).with_context(index_name));
      }
      a.key = *key;
    }
  } else if (!options.allow_unencrypted) {
    return make_error(ErrorCode::kNotForThisSite,
                      "{}: bundle is not encrypted; pass --allow-unencrypted to accept bundles not addressed to a site",
                      index_name);
  }
  ASSIGN_OR_RETURN(a.payload, format::open_body(a.opened, a.key));
  // Volumes whose names a medium's file system changed (ISO 9660 without
  // Rock Ridge): found by folded name or by the first pack they hold, then
  // checked like any other.
  ASSIGN_OR_RETURN(a.notes, format::find_renamed_volumes(a.opened, &a.payload));
  return a;
}

}  // namespace airlock::installer
