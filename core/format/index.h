#pragma once
// The bundle index file NAME-VERSION.airlock: a clear header (JSON), a body
// (the payload manifest, zstd-compressed and usually AEAD-encrypted) and a
// signature envelope. Byte layout in docs/FORMAT.md §2.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/crypto/sodium.h"
#include "core/format/media.h"
#include "core/format/shipped_installers.h"

namespace airlock::format {

// The index container's layout (docs/FORMAT.md §2): unchanged since 1.
inline constexpr std::uint32_t k_container_version = 1;
// The header's format_version: 1 for bundles of plain frames, 2 for bundles
// holding solid blocks (docs/FORMAT.md §3), 3 for delta bundles (a base,
// chunks read back from it, XOR frames). A writer writes the lowest version
// its bundle needs (Payload::needed_format_version); this build reads all three.
inline constexpr std::uint32_t k_format_version = 1;
inline constexpr std::uint32_t k_format_version_solid = 2;
inline constexpr std::uint32_t k_format_version_delta = 3;
inline constexpr std::uint32_t k_max_format_version = 3;
inline constexpr std::uint64_t k_max_header_size = 1 << 20;        // 1 MiB
inline constexpr std::uint64_t k_max_body_size = 512ull << 20;     // 512 MiB
inline constexpr std::uint64_t k_max_signatures_size = 64 << 10;   // 64 KiB
inline constexpr std::uint64_t k_max_index_size =
    16 + k_max_header_size + 8 + k_max_body_size + 4 + k_max_signatures_size;
inline constexpr std::size_t k_max_recipients = 256;
inline constexpr std::size_t k_max_volumes = 100000;
inline constexpr std::size_t k_max_signatures = 32;

struct VolumeInfo {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;  // lowercase hex
};

struct Recipient {
  std::string type;   // "x25519" | "argon2id"
  std::string keyid;  // x25519: site key id
  Bytes wrapped_key;  // x25519: sealed box; argon2id: XChaCha20-Poly1305 nonce||ct||tag
  crypto::Argon2Params argon2;
};

// A change to the site's trust policy carried in a bundle: key rotation.
// The installer applies it only when the bundle's signatures satisfy the
// site's policy as it stands before the change (a threshold of the old keys).
inline constexpr std::size_t k_max_trust_changes = 32;  // keys added, and keys revoked
struct TrustChange {
  struct NewKey {
    std::string name;
    crypto::SignPublicKey key{};
  };
  std::vector<NewKey> add;
  std::vector<std::string> revoke;  // key ids (16 lowercase hex)
  std::optional<std::uint32_t> threshold;
};

struct Header {
  std::uint32_t format_version = k_format_version;
  std::string bundle_id;  // 32 lowercase hex (16 random bytes)
  std::string name;
  std::string version;
  std::uint64_t sequence = 0;
  std::int64_t created = 0;  // unix seconds
  std::optional<std::int64_t> expires;
  std::string suite;  // "aes-256-gcm" | "none"
  std::vector<Recipient> recipients;
  std::vector<VolumeInfo> volumes;
  std::string tool;
  std::optional<TrustChange> trust;  // "trust" in the JSON; absent when nothing changes
  // "installers": files written by create --with-installer; absent otherwise.
  std::optional<ShippedInstallers> installers;
  // "media": how create --media laid the volumes out; absent otherwise.
  std::optional<MediaPlan> media;

  bool encrypted() const { return suite != "none"; }
};

std::string serialize_header(const Header& header);  // canonical JSON (sorted keys, no spaces)
Result<Header> parse_header(ByteSpan json);

struct SignatureEntry {
  std::string keyid;
  crypto::Signature sig{};
};

struct IndexFile {
  Bytes header;  // exact bytes, as signed
  Bytes body;
  std::vector<SignatureEntry> signatures;
};

Bytes serialize_index(const IndexFile& index);
// Structure and size caps only; the caller verifies signatures.
Result<IndexFile> parse_index(ByteSpan bytes);

// Where the three parts of an index file lie, from its fixed-size fields
// (magic, version, the three lengths), checked against the caps and against
// the file's size before anything else is read or allocated: a file that
// claims a body it does not hold is refused by its lengths alone.
struct IndexLayout {
  std::uint64_t header_offset = 16;
  std::uint64_t header_size = 0;
  std::uint64_t body_offset = 0;
  std::uint64_t body_size = 0;
  std::uint64_t signatures_offset = 0;
  std::uint64_t signatures_size = 0;
};
// Reads exactly out.size() bytes at `offset` of the index file.
using ReadAt = std::function<Status(std::uint64_t offset, std::span<std::uint8_t> out)>;
// Reads 28 bytes at most, through read_at. Same errors as parse_index.
Result<IndexLayout> read_index_layout(std::uint64_t file_size, const ReadAt& read_at);
// The signature envelope: at most k_max_signatures entries, each a key id
// (16 lowercase hex digits, as keys::key_id makes them: nothing else can
// name a key, and nothing else reaches a message) and a 64-byte signature.
Result<std::vector<SignatureEntry>> parse_signature_envelope(ByteSpan envelope);
// What the signatures cover: a domain tag, then both lengths and the bytes.
Bytes signed_message(ByteSpan header, ByteSpan body);

}  // namespace airlock::format
