#pragma once
// How a chunk frame and the index body are bound to their place: nonces
// unique under the bundle's data key, and associated data that names the
// bundle, the chunk and its sizes. See docs/FORMAT.md §4.

#include <cstdint>
#include <span>

#include "core/base/bytes.h"
#include "core/crypto/aead.h"
#include "core/format/payload.h"

namespace airlock::format {

// Frame nonce: 4 zero bytes || chunk index (u64 big-endian).
crypto::AeadNonce frame_nonce(std::uint64_t chunk_index);
// Body nonce: 4 bytes 0xff || 8 zero bytes (never a frame nonce).
crypto::AeadNonce body_nonce();

// "airlock-frame-v1" || bundle_id (16 bytes) || chunk index (u64 LE) ||
// chunk id (32) || codec (u8) || plaintext size (u64 LE) || stored size (u64 LE),
// and for an XOR frame (codec kXor) then its inner codec (u8) || base chunk id (32).
Bytes frame_aad(ByteSpan bundle_id, std::uint64_t chunk_index, const ChunkEntry& chunk);
// The AAD of the frame whose record is group[0] (at chunk_index): for a
// solid head (codec kSolid), frame_aad of it || member count (u64 LE) ||
// per member, in order: chunk id (32) || plaintext size (u64 LE); for any
// other record (group of one), frame_aad alone.
Bytes frame_aad(ByteSpan bundle_id, std::uint64_t chunk_index, std::span<const ChunkEntry> group);
// "airlock-body-v1" || bundle_id.
Bytes body_aad(ByteSpan bundle_id);
// "airlock-passphrase-v1" || bundle_id: the AAD of a passphrase-wrapped key.
Bytes passphrase_aad(ByteSpan bundle_id);

}  // namespace airlock::format
