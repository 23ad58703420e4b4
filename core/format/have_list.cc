#include "core/format/have_list.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/base/bytes.h"
#include "core/base/text.h"
#include "core/crypto/sha256.h"
#include "core/names/names.h"

namespace airlock::format {

namespace {

using json = nlohmann::json;

// What the signature covers: this tag, a NUL, then the signed part's bytes.
constexpr std::string_view k_have_sign_domain = "airlock-have-v1";
constexpr std::string_view k_have_sig_prefix = "signature ed25519 ";

std::string have_keyid(const crypto::SignPublicKey& pub) { return crypto::sha256_hex(pub).substr(0, 16); }

Bytes have_signed_message(std::string_view signed_part) {
  Bytes m;
  m.reserve(k_have_sign_domain.size() + 1 + signed_part.size());
  append(m, as_bytes(k_have_sign_domain));
  m.push_back(0);
  append(m, as_bytes(signed_part));
  return m;
}

std::string have_str(const std::string& s) {
  return json(s).dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
}

// The signed part: one header line, one line per entry, the closing line.
std::string have_signed_part(const HaveList& list, const std::string& signing_keyid) {
  std::vector<const HaveEntry*> sorted;
  sorted.reserve(list.entries.size());
  for (const HaveEntry& e : list.entries) {
    sorted.push_back(&e);
  }
  std::sort(sorted.begin(), sorted.end(), [](const HaveEntry* a, const HaveEntry* b) {
    return std::tie(a->name, a->sequence, a->version) < std::tie(b->name, b->sequence, b->version);
  });
  std::string out = fmt::format(
      "{{\"airlock_have\":{},\"created\":{},\"site_key\":{},\"signing_key\":{},\"tool\":{},\"deployments\":[\n",
      k_have_list_version, list.created, have_str(list.site_keyid), have_str(signing_keyid), have_str(list.tool));
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const HaveEntry& e = *sorted[i];
    out += fmt::format("{{\"name\":{},\"version\":{},\"bundle_id\":{},\"sequence\":{},\"active\":{}}}{}\n",
                       have_str(e.name), have_str(e.version), have_str(e.bundle_id), e.sequence,
                       e.active ? "true" : "false", i + 1 < sorted.size() ? "," : "");
  }
  out += "]}\n";
  return out;
}

std::unexpected<Error> have_corrupt(const std::string& what) {
  return make_error(ErrorCode::kCorruption, "have-list: {}", what);
}

// The object's keys must be exactly `keys`.
bool has_exactly(const json& j, std::initializer_list<std::string_view> keys) {
  if (!j.is_object() || j.size() != keys.size()) {
    return false;
  }
  return std::all_of(keys.begin(), keys.end(), [&](std::string_view k) { return j.contains(std::string(k)); });
}

bool is_have_tool(const std::string& s) {
  return s.size() <= k_have_max_tool &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

Result<HaveEntry> parse_have_entry(const json& j, std::size_t line) {
  if (!has_exactly(j, {"name", "version", "bundle_id", "sequence", "active"})) {
    return have_corrupt(fmt::format("entry {}: must have exactly name, version, bundle_id, sequence, active", line));
  }
  const json& name = j["name"];
  const json& version = j["version"];
  const json& bundle_id = j["bundle_id"];
  const json& sequence = j["sequence"];
  const json& active = j["active"];
  if (!name.is_string() || !names::is_deployment_name(name.get_ref<const std::string&>())) {
    return have_corrupt(fmt::format("entry {}: bad deployment name", line));
  }
  if (!version.is_string() || !names::is_version(version.get_ref<const std::string&>())) {
    return have_corrupt(fmt::format("entry {}: bad version", line));
  }
  if (!bundle_id.is_string() || !text::is_lower_hex(bundle_id.get_ref<const std::string&>(), 32)) {
    return have_corrupt(fmt::format("entry {}: bundle_id must be 32 lowercase hex digits", line));
  }
  if (!sequence.is_number_unsigned()) {
    return have_corrupt(fmt::format("entry {}: sequence must be a whole number, 0 or more", line));
  }
  if (!active.is_boolean()) {
    return have_corrupt(fmt::format("entry {}: active must be true or false", line));
  }
  return HaveEntry{name.get<std::string>(), version.get<std::string>(), bundle_id.get<std::string>(),
                   sequence.get<std::uint64_t>(), active.get<bool>()};
}

}  // namespace

std::string write_have_list(const HaveList& list, const format::Signer& signer) {
  std::string out = have_signed_part(list, signer.keyid);
  const crypto::Signature sig = crypto::ed25519_sign(have_signed_message(out), signer.secret);
  out += fmt::format("{}{} {}\n", k_have_sig_prefix, signer.keyid, to_base64(sig));
  return out;
}

Result<HaveList> read_have_list(std::string_view text, const crypto::SignPublicKey& site_signing_pub) {
  if (text.size() > k_have_max_bytes) {
    return have_corrupt(fmt::format("{} bytes, over the cap of {} bytes", text.size(), k_have_max_bytes));
  }
  // The last line is the signature; everything before it is what it signs.
  if (text.empty() || text.back() != '\n') {
    return have_corrupt("does not end with a complete signature line (truncated?)");
  }
  const std::string_view body = text.substr(0, text.size() - 1);
  const std::size_t cut = body.rfind('\n');
  if (cut == std::string_view::npos) {
    return have_corrupt("no signature line after the list (truncated?)");
  }
  const std::string_view signed_part = text.substr(0, cut + 1);
  std::string_view sig_line = body.substr(cut + 1);
  if (!sig_line.starts_with(k_have_sig_prefix)) {
    return have_corrupt("the last line is not 'signature ed25519 KEYID BASE64' (truncated or damaged)");
  }
  sig_line.remove_prefix(k_have_sig_prefix.size());
  const std::size_t space = sig_line.find(' ');
  const std::string_view keyid = sig_line.substr(0, space);
  if (space == std::string_view::npos || !text::is_lower_hex(keyid, 16)) {
    return have_corrupt("the signature line has no key id of 16 lowercase hex digits");
  }
  const std::string_view sig_b64 = sig_line.substr(space + 1);
  const auto sig_bytes = from_base64(sig_b64);
  if (!sig_bytes || sig_bytes->size() != crypto::Signature{}.size() || to_base64(*sig_bytes) != sig_b64) {
    return have_corrupt("the signature line does not hold one base64 Ed25519 signature");
  }
  const std::string want = have_keyid(site_signing_pub);
  if (keyid != want) {
    return make_error(ErrorCode::kUntrusted,
                      "have-list: signed by key {}, not by the site signing key {} given: it was made by another "
                      "site, or this is not that site's site-signing.pub",
                      keyid, want);
  }
  crypto::Signature sig{};
  std::copy(sig_bytes->begin(), sig_bytes->end(), sig.begin());
  if (!crypto::ed25519_verify(have_signed_message(signed_part), sig, site_signing_pub)) {
    return make_error(ErrorCode::kBadSignature,
                      "have-list: the signature by site signing key {} does not verify: the file was altered or "
                      "damaged after the site signed it",
                      want);
  }

  // Signed by the site: now parse it, strictly.
  const json j = json::parse(signed_part.begin(), signed_part.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return have_corrupt("the signed part is not JSON");
  }
  if (!has_exactly(j, {"airlock_have", "created", "site_key", "signing_key", "tool", "deployments"})) {
    return have_corrupt(
        "the signed part must have exactly airlock_have, created, site_key, signing_key, tool, deployments");
  }
  if (!j["airlock_have"].is_number_unsigned() || j["airlock_have"].get<std::uint64_t>() != k_have_list_version) {
    return have_corrupt(fmt::format("airlock_have must be {} (a newer format?)", k_have_list_version));
  }
  HaveList list;
  const json& created = j["created"];
  if (!created.is_number_integer() ||
      (created.is_number_unsigned() &&
       created.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
    return have_corrupt("created must be a whole number of seconds");
  }
  list.created = created.get<std::int64_t>();
  const json& site_key = j["site_key"];
  if (!site_key.is_string() || !text::is_lower_hex(site_key.get_ref<const std::string&>(), 16)) {
    return have_corrupt("site_key must be a key id of 16 lowercase hex digits");
  }
  list.site_keyid = site_key.get<std::string>();
  const json& signing_key = j["signing_key"];
  if (!signing_key.is_string() || signing_key.get_ref<const std::string&>() != want) {
    return have_corrupt(fmt::format("signing_key must be {}, the key that signed it", want));
  }
  list.signing_keyid = want;
  const json& tool = j["tool"];
  if (!tool.is_string() || !is_have_tool(tool.get_ref<const std::string&>())) {
    return have_corrupt(fmt::format("tool must be printable ASCII of at most {} bytes", k_have_max_tool));
  }
  list.tool = tool.get<std::string>();
  const json& deps = j["deployments"];
  if (!deps.is_array()) {
    return have_corrupt("deployments must be an array");
  }
  if (deps.size() > k_have_max_entries) {
    return have_corrupt(fmt::format("{} entries, over the cap of {}", deps.size(), k_have_max_entries));
  }
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> active;
  list.entries.reserve(deps.size());
  for (std::size_t i = 0; i < deps.size(); ++i) {
    ASSIGN_OR_RETURN(HaveEntry e, parse_have_entry(deps[i], i + 1));
    if (!seen.emplace(e.name, e.version).second) {
      return have_corrupt(fmt::format("{} {} is listed twice", e.name, e.version));
    }
    if (e.active && !active.insert(e.name).second) {
      return have_corrupt(fmt::format("{} has more than one active version", e.name));
    }
    list.entries.push_back(std::move(e));
  }
  if (have_signed_part(list, want) != signed_part) {
    return have_corrupt("the signed part is not in the one form airlock writes (re-spaced, reordered or re-encoded)");
  }
  return list;
}

}  // namespace airlock::format
