#pragma once
// Per-chunk codecs. A codec turns a plaintext chunk into its stored form and
// back. Decoding is bounded: it writes exactly out.size() bytes (the signed
// plaintext size) and fails with kCorruption on anything else, so a hostile
// frame can never make us produce more than was signed.
//
// Thread-safety: Encoder/Decoder hold reusable scratch state; use one per thread.

#include <cstdint>
#include <memory>
#include <span>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/safetensors/safetensors.h"

namespace airlock::codec {

enum class Codec : std::uint8_t {
  kStore = 0,      // bytes as they are
  kZstd = 1,       // one zstd frame
  kBytePlane = 2,  // 16/32-bit floats split into byte planes, each stored or zstd'd
  // Record kinds of format version 2 (docs/FORMAT.md §3, §4), not codecs of
  // their own: Encoder never returns them and Decoder refuses them.
  kSolid = 3,   // the head of a solid block: one zstd frame holding it and its members
  kMember = 4,  // a chunk stored inside the solid block before it (no frame bytes of its own)
  // Record kinds of format version 3, delta bundles (docs/FORMAT.md §3, §5):
  kXor = 5,   // a frame holding (plaintext XOR a chunk of the base version), encoded by ChunkEntry::inner
  kBase = 6,  // not on the media: the installer reads it from the installed base version
};

const char* codec_name(Codec codec);

struct ChunkHint {
  chunk::DType dtype = chunk::DType::kOther;
  // (absolute offset of the chunk's first byte - offset of its tensor's first
  // byte) modulo the element size: planes stay aligned to whole elements even
  // when a chunk starts mid-element.
  std::uint32_t element_phase = 0;
};

class Encoder {
 public:
  explicit Encoder(int zstd_level = 3);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // Encodes `in` with the codec that suits the hint (byte planes for
  // BF16/F16/F32, zstd otherwise) and falls back to kStore whenever that is
  // not smaller. `out` is overwritten; its size is the stored size, never
  // larger than in.size(). Returns the codec used.
  Codec encode(ByteSpan in, const ChunkHint& hint, Bytes& out);

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes `stored` into exactly out.size() bytes. kCorruption if the stored
  // bytes are malformed or would decode to any other size.
  Status decode(Codec codec, ByteSpan stored, std::span<std::uint8_t> out);

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

}  // namespace airlock::codec
