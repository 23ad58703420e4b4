#include "core/format/index.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "core/manifest/manifest.h"

namespace airlock::format {

using nlohmann::json;

namespace {

constexpr char k_magic[8] = {'A', 'I', 'R', 'L', 'O', 'C', 'K', '\0'};
constexpr std::string_view k_sign_domain = "airlock-index-v1";

std::unexpected<Error> index_corrupt(std::string_view what) {
  return std::unexpected(Error(ErrorCode::kCorruption, fmt::format("index: {}", what)));
}

bool is_hex(const std::string& s, std::size_t len) {
  if (s.size() != len) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// Typed field access that never throws: a missing or mistyped field is a
// corruption error naming the field.
template <typename T>
Result<T> field(const json& obj, const char* key, const char* where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return index_corrupt(fmt::format("{}: missing field '{}'", where, key));
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return index_corrupt(fmt::format("{}: field '{}' must be a string", where, key));
    return it->template get<std::string>();
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    if (!it->is_number_unsigned()) return index_corrupt(fmt::format("{}: field '{}' must be an unsigned integer", where, key));
    return it->template get<std::uint64_t>();
  } else {
    if (!it->is_number_integer() || (it->is_number_unsigned() && it->template get<std::uint64_t>() > INT64_MAX)) {
      return index_corrupt(fmt::format("{}: field '{}' must be a 64-bit signed integer", where, key));
    }
    return it->template get<std::int64_t>();
  }
}

Result<Bytes> b64_field(const json& obj, const char* key, const char* where) {
  ASSIGN_OR_RETURN(std::string text, field<std::string>(obj, key, where));
  auto bytes = from_base64(text);
  if (!bytes) {
    return index_corrupt(fmt::format("{}: field '{}' is not valid base64", where, key));
  }
  return *bytes;
}

}  // namespace

std::string serialize_header(const Header& h) {
  json j;
  j["format"] = "airlock-bundle";
  j["format_version"] = h.format_version;
  j["bundle_id"] = h.bundle_id;
  j["deployment"] = {{"name", h.name}, {"version", h.version}};
  j["sequence"] = h.sequence;
  j["created"] = h.created;
  if (h.expires) {
    j["expires"] = *h.expires;
  }
  j["suite"] = h.suite;
  j["tool"] = h.tool;
  json recips = json::array();
  for (const Recipient& r : h.recipients) {
    json e = {{"type", r.type}, {"wrapped_key", to_base64(r.wrapped_key)}};
    if (r.type == "x25519") {
      e["keyid"] = r.keyid;
    } else {
      e["opslimit"] = r.argon2.opslimit;
      e["memlimit"] = r.argon2.memlimit;
      e["salt"] = to_base64(r.argon2.salt);
    }
    recips.push_back(std::move(e));
  }
  j["recipients"] = std::move(recips);
  if (h.trust) {
    json add = json::array();
    for (const TrustChange::NewKey& k : h.trust->add) {
      add.push_back({{"name", k.name}, {"key", to_base64(k.key)}});
    }
    json t = {{"add", std::move(add)}, {"revoke", h.trust->revoke}};
    if (h.trust->threshold) {
      t["threshold"] = *h.trust->threshold;
    }
    j["trust"] = std::move(t);
  }
  if (h.installers) {
    j["installers"] = shipped_to_json(*h.installers);
  }
  if (h.media) {
    j["media"] = media_to_json(*h.media);
  }
  json vols = json::array();
  for (const VolumeInfo& v : h.volumes) {
    vols.push_back({{"name", v.name}, {"size", v.size}, {"sha256", v.sha256}});
  }
  j["volumes"] = std::move(vols);
  return j.dump();
}

Result<Header> parse_header(ByteSpan bytes) {
  json j = json::parse(as_chars(bytes), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return index_corrupt("header is not a JSON object");
  }
  ASSIGN_OR_RETURN(std::string fmt_name, field<std::string>(j, "format", "header"));
  ASSIGN_OR_RETURN(std::uint64_t fmt_version, field<std::uint64_t>(j, "format_version", "header"));
  if (fmt_name != "airlock-bundle") {
    return index_corrupt(fmt::format("not an airlock bundle (format '{}')", fmt_name));
  }
  if (fmt_version < k_format_version || fmt_version > k_max_format_version) {
    return std::unexpected(Error(ErrorCode::kUnsupported,
        fmt::format("index: bundle format version {} is not supported (this build reads {} to {})", fmt_version,
                    k_format_version, k_max_format_version)));
  }
  Header h;
  h.format_version = static_cast<std::uint32_t>(fmt_version);
  ASSIGN_OR_RETURN(h.bundle_id, field<std::string>(j, "bundle_id", "header"));
  if (!is_hex(h.bundle_id, 32)) {
    return index_corrupt("header: bundle_id must be 32 lowercase hex digits");
  }
  auto dep = j.find("deployment");
  if (dep == j.end() || !dep->is_object()) {
    return index_corrupt("header: missing 'deployment'");
  }
  ASSIGN_OR_RETURN(h.name, field<std::string>(*dep, "name", "header.deployment"));
  ASSIGN_OR_RETURN(h.version, field<std::string>(*dep, "version", "header.deployment"));
  if (!manifest::is_valid_name(h.name) || !manifest::is_valid_version(h.version)) {
    return index_corrupt("header: deployment name or version has characters outside the allowed set");
  }
  ASSIGN_OR_RETURN(h.sequence, field<std::uint64_t>(j, "sequence", "header"));
  ASSIGN_OR_RETURN(h.created, field<std::int64_t>(j, "created", "header"));
  if (j.contains("expires")) {
    ASSIGN_OR_RETURN(std::int64_t e, field<std::int64_t>(j, "expires", "header"));
    h.expires = e;
  }
  ASSIGN_OR_RETURN(h.suite, field<std::string>(j, "suite", "header"));
  if (h.suite != "aes-256-gcm" && h.suite != "none") {
    return std::unexpected(Error(ErrorCode::kUnsupported, fmt::format("index: cipher suite '{}' is not supported", h.suite)));
  }
  ASSIGN_OR_RETURN(h.tool, field<std::string>(j, "tool", "header"));
  auto recips = j.find("recipients");
  if (recips == j.end() || !recips->is_array() || recips->size() > k_max_recipients) {
    return index_corrupt("header: 'recipients' must be an array of at most 256 stanzas");
  }
  for (const json& r : *recips) {
    if (!r.is_object()) {
      return index_corrupt("header: recipient stanza is not an object");
    }
    Recipient rec;
    ASSIGN_OR_RETURN(rec.type, field<std::string>(r, "type", "recipient"));
    ASSIGN_OR_RETURN(rec.wrapped_key, b64_field(r, "wrapped_key", "recipient"));
    if (rec.wrapped_key.size() > 256) {
      return index_corrupt("recipient: wrapped_key is oversized");
    }
    if (rec.type == "x25519") {
      ASSIGN_OR_RETURN(rec.keyid, field<std::string>(r, "keyid", "recipient"));
      if (!is_hex(rec.keyid, 16)) {
        return index_corrupt("recipient: keyid is not a key id (16 lowercase hex digits)");
      }
    } else if (rec.type == "argon2id") {
      ASSIGN_OR_RETURN(rec.argon2.opslimit, field<std::uint64_t>(r, "opslimit", "recipient"));
      ASSIGN_OR_RETURN(rec.argon2.memlimit, field<std::uint64_t>(r, "memlimit", "recipient"));
      ASSIGN_OR_RETURN(Bytes salt, b64_field(r, "salt", "recipient"));
      if (salt.size() != rec.argon2.salt.size()) {
        return index_corrupt("recipient: argon2id salt must be 16 bytes");
      }
      std::memcpy(rec.argon2.salt.data(), salt.data(), salt.size());
    } else {
      return std::unexpected(Error(ErrorCode::kUnsupported, fmt::format("index: recipient type '{}' is not supported", rec.type)));
    }
    h.recipients.push_back(std::move(rec));
  }
  bool has_passphrase = false;
  for (const Recipient& r : h.recipients) {
    has_passphrase = has_passphrase || r.type == "argon2id";
  }
  if (has_passphrase && h.recipients.size() != 1) {
    return index_corrupt("header: a passphrase stanza must be the only recipient");
  }
  if (h.encrypted() == h.recipients.empty()) {
    return index_corrupt("header: recipients do not match the cipher suite");
  }
  if (auto t = j.find("trust"); t != j.end()) {
    if (!t->is_object()) {
      return index_corrupt("header: 'trust' is not an object");
    }
    TrustChange change;
    auto add = t->find("add");
    auto revoke = t->find("revoke");
    if (add == t->end() || !add->is_array() || add->size() > k_max_trust_changes || revoke == t->end() ||
        !revoke->is_array() || revoke->size() > k_max_trust_changes) {
      return index_corrupt("header: 'trust' needs 'add' and 'revoke' arrays of at most 32 entries");
    }
    for (const json& k : *add) {
      if (!k.is_object()) {
        return index_corrupt("header: trust.add entry is not an object");
      }
      TrustChange::NewKey nk;
      ASSIGN_OR_RETURN(nk.name, field<std::string>(k, "name", "trust.add"));
      ASSIGN_OR_RETURN(Bytes key, b64_field(k, "key", "trust.add"));
      if (!manifest::is_valid_name(nk.name) || key.size() != nk.key.size()) {
        return index_corrupt(fmt::format("header: trust.add entry '{}' has a bad name or key", nk.name));
      }
      std::memcpy(nk.key.data(), key.data(), key.size());
      change.add.push_back(std::move(nk));
    }
    for (const json& k : *revoke) {
      if (!k.is_string() || !is_hex(k.get<std::string>(), 16)) {
        return index_corrupt("header: trust.revoke entries must be key ids (16 lowercase hex digits)");
      }
      change.revoke.push_back(k.get<std::string>());
    }
    if (t->contains("threshold")) {
      ASSIGN_OR_RETURN(std::uint64_t n, field<std::uint64_t>(*t, "threshold", "trust"));
      if (n < 1 || n > 1000) {
        return index_corrupt("header: trust.threshold must be between 1 and 1000");
      }
      change.threshold = static_cast<std::uint32_t>(n);
    }
    if (change.add.empty() && change.revoke.empty() && !change.threshold) {
      return index_corrupt("header: 'trust' changes nothing");
    }
    h.trust = std::move(change);
  }
  if (auto s = j.find("installers"); s != j.end()) {
    ASSIGN_OR_RETURN(h.installers, parse_shipped(*s));
  }
  auto vols = j.find("volumes");
  if (vols == j.end() || !vols->is_array() || vols->empty() || vols->size() > k_max_volumes) {
    return index_corrupt("header: 'volumes' must be a non-empty array");
  }
  for (const json& v : *vols) {
    if (!v.is_object()) {
      return index_corrupt("header: volume entry is not an object");
    }
    VolumeInfo info;
    ASSIGN_OR_RETURN(info.name, field<std::string>(v, "name", "volume"));
    ASSIGN_OR_RETURN(info.size, field<std::uint64_t>(v, "size", "volume"));
    ASSIGN_OR_RETURN(info.sha256, field<std::string>(v, "sha256", "volume"));
    if (!is_hex(info.sha256, 64) || info.name.find('/') != std::string::npos || info.name.empty() ||
        info.name.starts_with(".")) {
      return index_corrupt(fmt::format("header: volume '{}' has a bad name or hash", info.name));
    }
    h.volumes.push_back(std::move(info));
  }
  if (auto m = j.find("media"); m != j.end()) {
    ASSIGN_OR_RETURN(h.media, parse_media(*m, h.volumes.size()));
  }
  return h;
}

Bytes signed_message(ByteSpan header, ByteSpan body) {
  Bytes m;
  m.reserve(k_sign_domain.size() + 1 + 16 + header.size() + body.size());
  append(m, as_bytes(k_sign_domain));
  m.push_back(0);
  put_u64le(m, header.size());
  append(m, header);
  put_u64le(m, body.size());
  append(m, body);
  return m;
}

Bytes serialize_index(const IndexFile& index) {
  json sigs = json::array();
  for (const SignatureEntry& s : index.signatures) {
    sigs.push_back({{"keyid", s.keyid}, {"sig", to_base64(s.sig)}});
  }
  std::string envelope = json{{"signatures", sigs}}.dump();
  Bytes out;
  out.insert(out.end(), std::begin(k_magic), std::end(k_magic));
  put_u32le(out, k_container_version);
  put_u32le(out, static_cast<std::uint32_t>(index.header.size()));
  append(out, index.header);
  put_u64le(out, index.body.size());
  append(out, index.body);
  put_u32le(out, static_cast<std::uint32_t>(envelope.size()));
  append(out, as_bytes(envelope));
  return out;
}

Result<IndexLayout> read_index_layout(std::uint64_t file_size, const ReadAt& read_at) {
  std::uint8_t fixed[16];
  if (file_size < 16) {
    return index_corrupt("not an airlock index (too short)");
  }
  TRY(read_at(0, fixed));
  if (std::memcmp(fixed, k_magic, 8) != 0) {
    return index_corrupt("not an airlock index (bad magic)");
  }
  std::uint32_t version = get_u32le(fixed + 8);
  if (version != k_container_version) {
    return std::unexpected(Error(ErrorCode::kUnsupported,
        fmt::format("index: container version {} is not supported (this build reads {})", version, k_container_version)));
  }
  IndexLayout l;
  l.header_size = get_u32le(fixed + 12);
  if (l.header_size > k_max_header_size) {
    return index_corrupt(fmt::format("header of {} bytes exceeds the cap of {}", l.header_size, k_max_header_size));
  }
  // Every offset below stays under 16 + the caps, far from overflowing.
  std::uint64_t pos = l.header_offset + l.header_size;
  if (pos > file_size) {
    return index_corrupt("truncated in the header");
  }
  if (8 > file_size - pos) {
    return index_corrupt("truncated in the body length");
  }
  std::uint8_t len8[8];
  TRY(read_at(pos, len8));
  pos += 8;
  l.body_size = get_u64le(len8);
  if (l.body_size > k_max_body_size) {
    return index_corrupt(fmt::format("body of {} bytes exceeds the cap of {}", l.body_size, k_max_body_size));
  }
  l.body_offset = pos;
  if (l.body_size > file_size - pos) {
    return index_corrupt("truncated in the body");
  }
  pos += l.body_size;
  if (4 > file_size - pos) {
    return index_corrupt("truncated in the signature length");
  }
  std::uint8_t len4[4];
  TRY(read_at(pos, len4));
  pos += 4;
  l.signatures_size = get_u32le(len4);
  if (l.signatures_size > k_max_signatures_size) {
    return index_corrupt(fmt::format("signature envelope of {} bytes exceeds the cap of {}", l.signatures_size,
                               k_max_signatures_size));
  }
  l.signatures_offset = pos;
  if (l.signatures_size > file_size - pos) {
    return index_corrupt("truncated in the signature envelope");
  }
  pos += l.signatures_size;
  if (pos != file_size) {
    return index_corrupt(fmt::format("{} unexpected bytes after the signature envelope", file_size - pos));
  }
  return l;
}

Result<std::vector<SignatureEntry>> parse_signature_envelope(ByteSpan sigs) {
  json env = json::parse(as_chars(sigs), nullptr, false);
  if (env.is_discarded() || !env.is_object() || !env.contains("signatures") || !env["signatures"].is_array() ||
      env["signatures"].size() > k_max_signatures) {
    return index_corrupt("signature envelope is malformed");
  }
  std::vector<SignatureEntry> out;
  for (const json& s : env["signatures"]) {
    if (!s.is_object()) {
      return index_corrupt("signature entry is not an object");
    }
    SignatureEntry e;
    ASSIGN_OR_RETURN(e.keyid, field<std::string>(s, "keyid", "signature"));
    if (!is_hex(e.keyid, 16)) {
      // Not quoted: it is whatever the media say, and no key of ours has it.
      return index_corrupt("signature entry: keyid is not a key id (16 lowercase hex digits)");
    }
    ASSIGN_OR_RETURN(Bytes sig, b64_field(s, "sig", "signature"));
    if (sig.size() != e.sig.size()) {
      return index_corrupt("signature entry: Ed25519 signature must be 64 bytes");
    }
    std::memcpy(e.sig.data(), sig.data(), sig.size());
    out.push_back(std::move(e));
  }
  return out;
}

Result<IndexFile> parse_index(ByteSpan bytes) {
  auto read_at = [&](std::uint64_t offset, std::span<std::uint8_t> out) -> Status {
    std::memcpy(out.data(), bytes.data() + offset, out.size());  // read_index_layout stays in bounds
    return ok_status();
  };
  ASSIGN_OR_RETURN(IndexLayout l, read_index_layout(bytes.size(), read_at));
  IndexFile out;
  ByteSpan header = bytes.subspan(l.header_offset, l.header_size);
  ByteSpan body = bytes.subspan(l.body_offset, l.body_size);
  out.header.assign(header.begin(), header.end());
  out.body.assign(body.begin(), body.end());
  ASSIGN_OR_RETURN(out.signatures, parse_signature_envelope(bytes.subspan(l.signatures_offset, l.signatures_size)));
  return out;
}

}  // namespace airlock::format
