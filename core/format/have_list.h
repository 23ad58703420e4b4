#pragma once
// The have-list (docs/FORMAT.md, "Have-list"): what an installer site holds,
// signed by the site's own Ed25519 key (ROOT/keys/site-signing.key), for the
// connected side to build a delta bundle against. `airlock-installer have
// --export FILE` writes one; `airlock-bundler create --have FILE
// --site-signing-key site-signing.pub` reads it.
//
// A small text file a person can read at the transfer desk: a JSON object
// written one deployment entry a line (the signed part), then one line
// "signature ed25519 KEYID BASE64" over the exact bytes of the signed part
// (domain-separated). read_have_list verifies the signature before it parses
// anything, and accepts only the bytes write_have_list itself would write for
// what it read (one canonical form: no other spacing, key order or entry
// order), so there is exactly one file for one list.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/crypto/sodium.h"
#include "core/format/bundle_writer.h"

namespace airlock::format {

inline constexpr int k_have_list_version = 1;          // "airlock_have"
inline constexpr std::size_t k_have_max_bytes = 1u << 20;  // the whole file
inline constexpr std::size_t k_have_max_entries = 10000;
inline constexpr std::size_t k_have_max_tool = 128;    // bytes of "tool"

// One installed version, as the ledger has it.
struct HaveEntry {
  std::string name;       // deployment (names::is_deployment_name)
  std::string version;    // names::is_version
  std::string bundle_id;  // 32 lowercase hex digits, the bundle it was installed from
  std::uint64_t sequence = 0;
  bool active = false;    // at most one per deployment
  bool operator==(const HaveEntry&) const = default;
};

struct HaveList {
  std::string signing_keyid;  // key id of the site signing key (set by write_have_list from the signer)
  std::string site_keyid;     // key id of the site's X25519 key (ROOT/keys/site.pub, the bundler's --to)
  std::int64_t created = 0;   // unix seconds
  std::string tool;           // "airlock-installer 0.9.0": printable ASCII, at most k_have_max_tool bytes
  std::vector<HaveEntry> entries;
  bool operator==(const HaveList&) const = default;
};

// The file's text, signed by `signer`; the entries sorted by name, then
// sequence, then version (list.signing_keyid is ignored: the signer's key id
// is written). Caps are not checked here: callers check list.entries.size()
// and the result's size against k_have_max_entries and k_have_max_bytes, so
// what they write is what read_have_list accepts.
std::string write_have_list(const HaveList& list, const format::Signer& signer);

// Verifies and parses a have-list that must be signed by site_signing_pub.
//   kCorruption    malformed, not canonical, over a cap, truncated (no signature line)
//   kUntrusted     signed by another key than site_signing_pub (another site, or the wrong .pub given)
//   kBadSignature  the signature by that key does not verify (the file was altered after it was signed)
// All three are verification failures (exit 3); the message says which.
Result<HaveList> read_have_list(std::string_view text, const crypto::SignPublicKey& site_signing_pub);

}  // namespace airlock::format
