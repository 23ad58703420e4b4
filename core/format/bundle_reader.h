#pragma once
// Reads a bundle on the isolated side: the index (structure, caps), the data
// key (from a site key or a passphrase), the payload manifest, and then every
// volume in one sequential pass, handing each chunk to a sink only after it
// was authenticated, decoded within its signed size and re-hashed.
// Signature policy lives in keys/; this file only parses and decrypts.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "core/base/progress.h"
#include "core/base/timings.h"
#include "core/crypto/aead.h"
#include "core/crypto/sodium.h"
#include "core/format/index.h"
#include "core/format/payload.h"

namespace airlock::format {

struct OpenedIndex {
  std::filesystem::path index_path;
  std::filesystem::path dir;  // where the volumes are expected
  IndexFile index;
  Header header;
  Bytes bundle_id;  // 16 bytes
  // SHA-256 (lowercase hex) of the index file's bytes exactly as read here,
  // once: what "the same bundle" means to the installer's ledger.
  std::string index_sha256;
};

// BUNDLE is the bundle directory (holding exactly one *.airlock) or the index file.
Result<std::filesystem::path> locate_index(const std::filesystem::path& bundle);
Result<OpenedIndex> open_index(const std::filesystem::path& bundle);

struct SiteKey {
  std::string keyid;
  crypto::BoxPublicKey pub{};
  crypto::BoxSecretKey secret{};
};

// kNotForThisSite naming the recipients when no stanza opens.
Result<crypto::AeadKey> unwrap_with_site_key(const OpenedIndex& opened, const SiteKey& key);
Result<crypto::AeadKey> unwrap_with_passphrase(const OpenedIndex& opened, std::string_view passphrase);
Result<Payload> open_body(const OpenedIndex& opened, const std::optional<crypto::AeadKey>& data_key);

// Called once per chunk, in volume order, with verified plaintext.
using ChunkSink = std::function<Status(std::uint32_t chunk_index, ByteSpan plaintext)>;

struct StreamStats {
  std::uint64_t volume_bytes = 0;
  std::uint64_t chunk_bytes = 0;
};

// Reads every volume once, in header order, checking each volume's size and
// SHA-256, each pack's place, and each frame. All errors name the volume.
// `threads` workers authenticate, decode and hash frames (0 = one per core);
// the sink is always called from the calling thread, in order.
Result<StreamStats> stream_volumes(const OpenedIndex& opened, const Payload& payload,
                                   const std::optional<crypto::AeadKey>& data_key, const ChunkSink& sink,
                                   const ProgressFn& progress, std::size_t threads = 0,
                                   Timings* timings = nullptr);

}  // namespace airlock::format

namespace airlock::format {
// Reads every volume whole and compares its size and SHA-256 with the header;
// needs no key. Reports every bad volume, not just the first.
Status check_volume_hashes(const OpenedIndex& opened, const ProgressFn& progress);
// kCorruption naming a file in the bundle directory shaped like one of this
// bundle's volumes (BASE.volNNN.tar) that the signed header does not list.
// stream_volumes and check_volume_hashes call it first.
Status check_no_extra_volumes(const OpenedIndex& opened);
}  // namespace airlock::format
