#include "core/format/frame.h"

namespace airlock::format {

crypto::AeadNonce frame_nonce(std::uint64_t chunk_index) {
  crypto::AeadNonce n{};
  for (int i = 0; i < 8; ++i) {
    n[4 + i] = static_cast<std::uint8_t>(chunk_index >> (8 * (7 - i)));
  }
  return n;
}

crypto::AeadNonce body_nonce() {
  crypto::AeadNonce n{};
  n[0] = n[1] = n[2] = n[3] = 0xff;
  return n;
}

Bytes frame_aad(ByteSpan bundle_id, std::uint64_t chunk_index, const ChunkEntry& chunk) {
  Bytes aad;
  aad.reserve(16 + 16 + 8 + 32 + 1 + 16);
  append(aad, as_bytes("airlock-frame-v1"));
  append(aad, bundle_id);
  put_u64le(aad, chunk_index);
  append(aad, chunk.id);
  aad.push_back(static_cast<std::uint8_t>(chunk.codec));
  put_u64le(aad, chunk.size);
  put_u64le(aad, chunk.stored);
  if (chunk.codec == codec::Codec::kXor) {  // format version 3: what the frame's bytes are XORed with
    aad.push_back(static_cast<std::uint8_t>(chunk.inner));
    append(aad, chunk.base_id);
  }
  return aad;
}

Bytes frame_aad(ByteSpan bundle_id, std::uint64_t chunk_index, std::span<const ChunkEntry> group) {
  Bytes aad = frame_aad(bundle_id, chunk_index, group.front());
  if (group.front().codec == codec::Codec::kSolid) {
    put_u64le(aad, group.size() - 1);
    for (const ChunkEntry& m : group.subspan(1)) {
      append(aad, m.id);
      put_u64le(aad, m.size);
    }
  }
  return aad;
}

Bytes body_aad(ByteSpan bundle_id) {
  Bytes aad;
  append(aad, as_bytes("airlock-body-v1"));
  append(aad, bundle_id);
  return aad;
}

Bytes passphrase_aad(ByteSpan bundle_id) {
  Bytes aad;
  append(aad, as_bytes("airlock-passphrase-v1"));
  append(aad, bundle_id);
  return aad;
}

}  // namespace airlock::format
