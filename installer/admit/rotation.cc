#include "installer/admit/rotation.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/base/bytes.h"

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

std::string trust_change_json(const format::TrustChange& change) {
  nlohmann::json add = nlohmann::json::array();
  for (const format::TrustChange::NewKey& k : change.add) {
    add.push_back({{"name", k.name}, {"key", to_base64(k.key)}});
  }
  nlohmann::json j = {{"add", std::move(add)}, {"revoke", change.revoke}};
  if (change.threshold) {
    j["threshold"] = *change.threshold;
  }
  return j.dump();
}

Result<format::TrustChange> parse_trust_change_json(const std::string& text) {
  const auto bad = [](std::string_view why) {
    return make_error(ErrorCode::kCorruption, "the ledger's recorded key rotation is malformed: {}", why);
  };
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("add") || !j["add"].is_array() || !j.contains("revoke") ||
      !j["revoke"].is_array()) {
    return bad("expected {\"add\": [...], \"revoke\": [...]}");
  }
  format::TrustChange change;
  for (const nlohmann::json& k : j["add"]) {
    if (!k.is_object() || !k.contains("name") || !k["name"].is_string() || !k.contains("key") ||
        !k["key"].is_string()) {
      return bad("an 'add' entry lacks a name or key");
    }
    format::TrustChange::NewKey nk;
    nk.name = k["name"].get<std::string>();
    auto key = from_base64(k["key"].get<std::string>());
    if (!key || key->size() != nk.key.size()) {
      return bad(fmt::format("the key of '{}' is not a base64 Ed25519 public key", nk.name));
    }
    std::memcpy(nk.key.data(), key->data(), key->size());
    change.add.push_back(std::move(nk));
  }
  for (const nlohmann::json& id : j["revoke"]) {
    if (!id.is_string()) {
      return bad("a 'revoke' entry is not a key id");
    }
    change.revoke.push_back(id.get<std::string>());
  }
  if (j.contains("threshold")) {
    if (!j["threshold"].is_number_unsigned() || j["threshold"].get<std::uint64_t>() < 1 ||
        j["threshold"].get<std::uint64_t>() > 1000) {
      return bad("'threshold' is not between 1 and 1000");
    }
    change.threshold = static_cast<std::uint32_t>(j["threshold"].get<std::uint64_t>());
  }
  return change;
}

Status record_pending_rotation(Site& site, const format::Header& header, const std::string& index_sha256) {
  if (!header.trust) {
    return ok_status();
  }
  RotationRecord r;
  r.bundle_id = header.bundle_id;
  r.index_sha256 = index_sha256;
  r.target = header.name + "/" + header.version;
  r.change = trust_change_json(*header.trust);
  ASSIGN_OR_RETURN(r.trust_generation, site.ledger().trust_generation());
  r.recorded_at = site.clock().now_seconds();
  return site.ledger().record_rotation(r);
}

namespace {

// Adds, sets the threshold, revokes, in that order; skips what is already
// done. Returns what it did.
Result<std::vector<std::string>> apply_trust_change(Site& site, const format::TrustChange& change) {
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
  return done;
}

// Marks the rotation superseded, with a "refused" event saying why.
Result<Settled> supersede(Site& site, const RotationRecord& r, const std::string& why) {
  const std::string note =
      fmt::format("key rotation of bundle {} not applied: {}; it will never be applied (if the change is still "
                  "wanted, make it with 'airlock-installer trust' or a new bundle)",
                  r.bundle_id, why);
  TRY(site.ledger().with_transaction([&]() -> Status {
    TRY(site.log("trust-rotate", r.target, "refused", note));
    return site.ledger().settle_rotation(r.bundle_id, "superseded", note, site.clock().now_seconds());
  }));
  return Settled{false, note};
}

}  // namespace

Result<Settled> settle_rotation(Site& site, const RotationRecord& r) {
  ASSIGN_OR_RETURN(std::int64_t generation, site.ledger().trust_generation());
  if (generation != r.trust_generation) {
    return supersede(site, r,
                     fmt::format("the trust policy changed after it was recorded (trust event {} is newer than the "
                                 "policy it was admitted under, {})",
                                 generation, r.trust_generation));
  }
  ASSIGN_OR_RETURN(format::TrustChange change, parse_trust_change_json(r.change));
  if (auto checked = check_trust_change(site, change); !checked) {
    return supersede(site, r, checked.error().message());
  }
  auto done = apply_trust_change(site, change);
  if (!done) {
    if (done.error().code() == ErrorCode::kIOError) {
      return std::unexpected(done.error());  // left pending: recover() tries again
    }
    return supersede(site, r, done.error().message());
  }
  const std::string line =
      done->empty() ? fmt::format("key rotation of bundle {}: nothing left to change", r.bundle_id)
                    : fmt::format("key rotation of bundle {}: {}", r.bundle_id, fmt::join(*done, "; "));
  TRY(site.ledger().with_transaction([&]() -> Status {
    TRY(site.log("trust-rotate", r.target, "ok", line));
    return site.ledger().settle_rotation(r.bundle_id, "applied", line, site.clock().now_seconds());
  }));
  return Settled{true, line};
}

Result<std::vector<std::string>> settle_pending_rotations(Site& site) {
  std::vector<std::string> lines;
  ASSIGN_OR_RETURN(std::vector<RotationRecord> pending, site.ledger().pending_rotations());
  for (const RotationRecord& r : pending) {
    ASSIGN_OR_RETURN(Settled s, settle_rotation(site, r));
    lines.push_back(s.applied ? fmt::format("completed the interrupted {} ({})", s.line, r.target) : s.line);
  }
  return lines;
}

}  // namespace airlock::installer
