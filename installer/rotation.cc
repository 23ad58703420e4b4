#include "installer/rotation.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "keys/key_files.h"

namespace airlock::installer {

namespace {

keys::PublicKey to_public(const format::TrustChange::NewKey& k) {
  return keys::PublicKey{keys::key_id(k.key), k.key};
}

}  // namespace

Result<std::string> check_trust_change(Site& site, const format::TrustChange& change) {
  keys::TrustStore store = site.trust_store();
  ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> trusted, store.list());
  ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> revoked, store.revoked());
  ASSIGN_OR_RETURN(std::size_t threshold, store.threshold());

  std::set<std::string> after;  // key ids trusted once the change is applied
  for (const keys::TrustedKey& t : trusted) {
    after.insert(t.key.keyid);
  }
  for (const format::TrustChange::NewKey& k : change.add) {
    const keys::PublicKey pub = to_public(k);
    for (const keys::TrustedKey& r : revoked) {
      if (r.key.pub == pub.pub) {
        return make_error(ErrorCode::kUntrusted, "key rotation adds key {} ('{}'), which this site revoked",
                          pub.keyid, k.name);
      }
    }
    for (const keys::TrustedKey& t : trusted) {
      if (t.name == k.name && t.key.pub != pub.pub) {
        return make_error(ErrorCode::kUntrusted,
                          "key rotation adds key {} as '{}', but '{}' is already another trusted key ({})",
                          pub.keyid, k.name, k.name, t.key.keyid);
      }
    }
    after.insert(pub.keyid);
  }
  for (const std::string& id : change.revoke) {
    after.erase(id);
  }
  const std::size_t need = change.threshold ? *change.threshold : threshold;
  if (after.size() < need || after.empty()) {
    return make_error(ErrorCode::kUntrusted,
                      "key rotation would leave {} trusted key(s) under a threshold of {}", after.size(), need);
  }
  return fmt::format("adds {}, revokes {}, threshold {}", change.add.size(), change.revoke.size(), need);
}

Status apply_trust_change(Site& site, const format::TrustChange& change, const std::string& target) {
  keys::TrustStore store = site.trust_store();
  std::vector<std::string> done;
  for (const format::TrustChange::NewKey& k : change.add) {
    ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> trusted, store.list());
    const keys::PublicKey pub = to_public(k);
    if (std::any_of(trusted.begin(), trusted.end(), [&](const keys::TrustedKey& t) { return t.key.pub == pub.pub; })) {
      continue;
    }
    TRY(store.add_key(pub, k.name));
    done.push_back(fmt::format("added {} ({})", k.name, pub.keyid));
  }
  if (change.threshold) {
    ASSIGN_OR_RETURN(std::size_t now, store.threshold());
    if (now != *change.threshold) {
      TRY(store.set_threshold(*change.threshold));
      done.push_back(fmt::format("threshold {}", *change.threshold));
    }
  }
  for (const std::string& id : change.revoke) {
    ASSIGN_OR_RETURN(std::vector<keys::TrustedKey> trusted, store.list());
    auto it = std::find_if(trusted.begin(), trusted.end(), [&](const keys::TrustedKey& t) { return t.key.keyid == id; });
    if (it == trusted.end()) {
      continue;  // not trusted here (or already revoked)
    }
    ASSIGN_OR_RETURN(keys::TrustedKey gone, store.revoke(it->name));
    (void)gone;
    done.push_back(fmt::format("revoked {} ({})", it->name, id));
  }
  if (!done.empty()) {
    TRY(site.log("trust-rotate", target, "ok", fmt::format("{}", fmt::join(done, "; "))));
  }
  return ok_status();
}

}  // namespace airlock::installer
