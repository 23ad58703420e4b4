#include "keys/trust.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/fs/file.h"
#include "core/manifest/manifest.h"

namespace airlock::keys {

namespace stdfs = std::filesystem;

Result<TrustedKey> TrustStore::add(const stdfs::path& public_key_file, const std::string& name) {
  if (!manifest::is_valid_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' is not a valid key name (use [a-z0-9._-]+)", name);
  }
  ASSIGN_OR_RETURN(PublicKey key, load_public_key(public_key_file));
  return add_key(key, name);
}

Result<TrustedKey> TrustStore::add_key(const PublicKey& key, const std::string& name) {
  if (!manifest::is_valid_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' is not a valid key name (use [a-z0-9._-]+)", name);
  }
  ASSIGN_OR_RETURN(std::vector<TrustedKey> gone, revoked());
  for (const TrustedKey& t : gone) {
    if (t.key.pub == key.pub) {
      return make_error(ErrorCode::kInvalidArgument,
                        "key {} was revoked (as '{}'); a revoked key cannot be trusted again", key.keyid, t.name);
    }
  }
  ASSIGN_OR_RETURN(std::vector<TrustedKey> existing, list());
  for (const TrustedKey& t : existing) {
    if (t.name == name) {
      return make_error(ErrorCode::kInvalidArgument, "a trusted key named '{}' already exists", name);
    }
    if (t.key.pub == key.pub) {
      return make_error(ErrorCode::kInvalidArgument, "key {} is already trusted as '{}'", key.keyid, t.name);
    }
  }
  std::error_code ec;
  stdfs::create_directories(m_dir, ec);
  TRY(fs::write_file_atomic(m_dir / (name + ".pub"), as_bytes(format_public_key(key.pub)), 0644));
  return TrustedKey{name, key};
}

Status TrustStore::check_not_undercut(std::string_view doing, const std::string& name, std::size_t trusted) const {
  ASSIGN_OR_RETURN(std::size_t need, threshold());
  // Under the default threshold of 1 the last key may go (the site then
  // refuses everything, and says so); a threshold set on purpose may not be
  // silently undercut.
  if (need > 1 && trusted - 1 < need) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} '{}' would leave {} trusted key(s) under a threshold of {}; "
                      "add a key or lower it first with 'airlock-installer trust threshold N'",
                      doing, name, trusted - 1, need);
  }
  return ok_status();
}

Status TrustStore::remove(const std::string& name) {
  if (!manifest::is_valid_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' is not a valid key name", name);
  }
  stdfs::path p = m_dir / (name + ".pub");
  std::error_code ec;
  if (!stdfs::exists(p, ec)) {
    return make_error(ErrorCode::kNotFound, "no trusted key named '{}'", name);
  }
  ASSIGN_OR_RETURN(std::vector<TrustedKey> keys, list());
  TRY(check_not_undercut("removing", name, keys.size()));
  if (!stdfs::remove(p, ec)) {
    return make_error(ErrorCode::kIOError, "{}: cannot remove: {}", p.string(), ec.message());
  }
  return fs::fsync_dir(m_dir);
}

Result<std::size_t> TrustStore::threshold() const {
  const stdfs::path p = policy_path();
  std::error_code ec;
  if (!stdfs::exists(p, ec)) {
    return std::size_t{1};
  }
  ASSIGN_OR_RETURN(std::string text, fs::read_text_file(p, 4096));
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || j.size() != 1 || !j.contains("threshold") ||
      !j["threshold"].is_number_unsigned() || j["threshold"].get<std::uint64_t>() < 1 ||
      j["threshold"].get<std::uint64_t>() > 1000) {
    return make_error(ErrorCode::kCorruption,
                      "{}: malformed policy (expected {{\"threshold\": N}} with N >= 1)", p.string());
  }
  return static_cast<std::size_t>(j["threshold"].get<std::uint64_t>());
}

Status TrustStore::set_threshold(std::size_t n) {
  ASSIGN_OR_RETURN(std::vector<TrustedKey> keys, list());
  if (n < 1 || n > keys.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "threshold {} is impossible with {} trusted key(s): it must be between 1 and the number of "
                      "trusted keys",
                      n, keys.size());
  }
  const std::string text = nlohmann::json{{"threshold", n}}.dump() + "\n";
  return fs::write_file_atomic(policy_path(), as_bytes(text), 0644);
}

Result<TrustedKey> TrustStore::revoke(const std::string& name) {
  if (!manifest::is_valid_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' is not a valid key name", name);
  }
  ASSIGN_OR_RETURN(std::vector<TrustedKey> keys, list());
  auto it = std::find_if(keys.begin(), keys.end(), [&](const TrustedKey& t) { return t.name == name; });
  if (it == keys.end()) {
    return make_error(ErrorCode::kNotFound, "no trusted key named '{}'", name);
  }
  const TrustedKey key = *it;
  TRY(check_not_undercut("revoking", name, keys.size()));
  // Remembered first, forgotten second: a crash in between leaves the key
  // both trusted and revoked, and revoked wins in check_signatures.
  const stdfs::path dir = m_dir.parent_path() / "revoked";  // shared by both roles
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  TRY(fs::write_file_atomic(dir / (name + "." + key.key.keyid + ".pub"), as_bytes(format_public_key(key.key.pub)),
                            0644));
  TRY(remove(name));
  return key;
}

Result<std::vector<TrustedKey>> TrustStore::revoked() const {
  std::vector<TrustedKey> out;
  const stdfs::path dir = m_dir.parent_path() / "revoked";
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) {
    return out;
  }
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".pub") {
      continue;
    }
    ASSIGN_OR_RETURN(PublicKey key, load_public_key(e.path()));
    std::string stem = e.path().stem().string();  // NAME.KEYID
    const std::size_t dot = stem.rfind('.');
    out.push_back(TrustedKey{dot == std::string::npos ? stem : stem.substr(0, dot), key});
  }
  std::sort(out.begin(), out.end(), [](const TrustedKey& a, const TrustedKey& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<TrustedKey>> TrustStore::list() const {
  std::vector<TrustedKey> out;
  std::error_code ec;
  if (!stdfs::is_directory(m_dir, ec)) {
    return out;
  }
  for (const auto& e : stdfs::directory_iterator(m_dir, ec)) {
    if (e.path().extension() != ".pub") {
      continue;
    }
    ASSIGN_OR_RETURN(PublicKey key, load_public_key(e.path()));
    out.push_back(TrustedKey{e.path().stem().string(), key});
  }
  std::sort(out.begin(), out.end(), [](const TrustedKey& a, const TrustedKey& b) { return a.name < b.name; });
  return out;
}

namespace {

// The envelope's entries sorted by what their key ids name; needs no body.
struct NamedSigners {
  std::vector<std::pair<const format::SignatureEntry*, const TrustedKey*>> trusted;
  std::size_t distinct = 0;             // distinct trusted public keys named
  std::vector<std::string> unknown;     // key ids no trusted key has
  std::vector<std::string> not_counted;  // revoked keys
};

NamedSigners name_signers(const format::OpenedIndex& opened, const std::vector<TrustedKey>& trusted,
                          const std::vector<TrustedKey>& revoked) {
  NamedSigners out;
  std::set<crypto::SignPublicKey> keys;
  for (const format::SignatureEntry& s : opened.index.signatures) {
    auto gone = std::find_if(revoked.begin(), revoked.end(),
                             [&](const TrustedKey& t) { return t.key.keyid == s.keyid; });
    if (gone != revoked.end()) {
      out.not_counted.push_back(fmt::format("'{}' ({})", gone->name, s.keyid));
      continue;
    }
    auto it = std::find_if(trusted.begin(), trusted.end(), [&](const TrustedKey& t) { return t.key.keyid == s.keyid; });
    if (it == trusted.end()) {
      out.unknown.push_back(s.keyid);
      continue;
    }
    out.trusted.emplace_back(&s, &*it);
    keys.insert(it->key.pub);
  }
  out.distinct = keys.size();
  return out;
}

Status too_few_signers(const format::OpenedIndex& opened, const NamedSigners& named, std::size_t counted,
                       std::size_t threshold) {
  const std::string index_name = opened.index_path.filename().string();
  if (opened.index.signatures.empty()) {
    return make_error(ErrorCode::kUntrusted, "{}: the index carries no signature", index_name);
  }
  return make_error(ErrorCode::kUntrusted,
                    "{}: signed by {} trusted key(s), {} required; {}untrusted signer key id(s): {} "
                    "(add the publisher's key with 'airlock-installer trust add')",
                    index_name, counted, threshold,
                    named.not_counted.empty()
                        ? ""
                        : fmt::format("revoked key(s), not counted: {}; ", fmt::join(named.not_counted, ", ")),
                    named.unknown.empty() ? "none" : fmt::format("{}", fmt::join(named.unknown, ", ")));
}

}  // namespace

Status check_signers_named(const format::OpenedIndex& opened, const std::vector<TrustedKey>& trusted,
                           std::size_t threshold, const std::vector<TrustedKey>& revoked) {
  const NamedSigners named = name_signers(opened, trusted, revoked);
  if (named.distinct < threshold) {
    return too_few_signers(opened, named, named.distinct, threshold);
  }
  return ok_status();
}

Result<SignatureCheck> check_signatures(const format::OpenedIndex& opened, const std::vector<TrustedKey>& trusted,
                                        std::size_t threshold, const std::vector<TrustedKey>& revoked) {
  std::string index_name = opened.index_path.filename().string();
  const NamedSigners named = name_signers(opened, trusted, revoked);
  // Decided by the key ids alone: no need to hash the body for a refusal.
  if (named.distinct < threshold) {
    return std::unexpected(too_few_signers(opened, named, named.distinct, threshold).error());
  }
  Bytes message = format::signed_message(opened.index.header, opened.index.body);
  SignatureCheck out;
  std::set<crypto::SignPublicKey> counted;
  for (const auto& [s, key] : named.trusted) {
    if (!crypto::ed25519_verify(message, s->sig, key->key.pub)) {
      return make_error(ErrorCode::kBadSignature,
                        "{}: signature by trusted key '{}' ({}) does not verify: the index was altered or damaged",
                        index_name, key->name, s->keyid);
    }
    if (counted.insert(key->key.pub).second) {
      out.signers.push_back(key->name);
    }
  }
  if (counted.size() < threshold) {
    return std::unexpected(too_few_signers(opened, named, counted.size(), threshold).error());
  }
  return out;
}

namespace {
std::vector<TrustedKey> as_trusted(const std::vector<PublicKey>& keys) {
  std::vector<TrustedKey> trusted;
  for (const PublicKey& k : keys) {
    trusted.push_back(TrustedKey{k.keyid, k});
  }
  return trusted;
}
}  // namespace

Result<SignatureCheck> check_signatures_with(const format::OpenedIndex& opened, const std::vector<PublicKey>& keys) {
  return check_signatures(opened, as_trusted(keys), 1);
}

Status check_signers_named_with(const format::OpenedIndex& opened, const std::vector<PublicKey>& keys) {
  return check_signers_named(opened, as_trusted(keys), 1);
}

}  // namespace airlock::keys
