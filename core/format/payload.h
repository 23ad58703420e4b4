#pragma once
// The payload manifest: every file (path, mode, size, SHA-256, its chunk
// references), every chunk (id, codec, sizes, pack, offset) and every pack
// (volume, name, size). It travels inside the index body, encrypted.
// Byte layout in docs/FORMAT.md §3.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/chunk/fastcdc.h"
#include "core/codec/codec.h"
#include "core/crypto/sha256.h"
#include "core/format/sources.h"

namespace airlock::format {

struct ChunkEntry {
  crypto::Digest id{};          // SHA-256 of the plaintext chunk
  std::uint64_t size = 0;       // plaintext bytes
  std::uint64_t stored = 0;     // bytes of the frame in its pack (codec output + AEAD tag)
  std::uint32_t pack = 0;       // index into Payload::packs
  std::uint64_t offset = 0;     // offset of the frame inside its pack
  codec::Codec codec = codec::Codec::kStore;
  // codec kXor only: how the XOR bytes are encoded (kStore, kZstd or
  // kBytePlane), and the chunk of the base version they are XORed with
  // (same size; found through the installed base's chunk map).
  codec::Codec inner = codec::Codec::kStore;
  crypto::Digest base_id{};
};

// pack of a chunk with codec kBase: it lies in no pack.
inline constexpr std::uint32_t k_no_pack = 0xffffffffu;

// A delta bundle's base (format version 3): the version whose installed
// files hold every chunk of codec kBase and every kXor chunk's base_id.
struct BaseRef {
  std::string name;       // deployment
  std::string version;
  std::string bundle_id;  // 32 lowercase hex: the bundle that installed it
  std::string chunk_set;  // chunk_set_digest (core/format/delta.h) of all its chunks, lowercase hex
  std::uint64_t chunk_count = 0;  // distinct chunks in that set
};

struct FileEntry {
  std::string path;  // relative, '/'-separated: "model/..." or a [[files]] dest
  std::uint32_t mode = 0644;
  std::uint64_t size = 0;
  std::string sha256;
  std::uint64_t first_ref = 0;  // into Payload::refs
  std::uint64_t ref_count = 0;
};

struct PackEntry {
  std::uint32_t volume = 0;  // index into Header::volumes
  std::string name;          // tar entry name, "packs/NNNNNN.pack"
  std::uint64_t size = 0;
};

struct Payload {
  std::string name;
  std::string version;
  chunk::ChunkParams chunking;
  std::vector<FileEntry> files;
  std::vector<ChunkEntry> chunks;
  std::vector<std::uint32_t> refs;  // chunk indices, files' lists back to back
  std::vector<PackEntry> packs;
  nlohmann::json activate;          // null or the manifest's [activate] table
  nlohmann::json sources;           // null or the lock's sources: identities and files (docs/FORMAT.md), as signed
  std::vector<Source> typed_sources;  // decode_payload's typed reading of `sources` (sources.h); not encoded
  std::optional<BaseRef> base;      // set: a delta bundle (format version 3)

  std::uint64_t total_file_bytes() const;
  // One past the last chunk whose bytes lie in chunk `index`'s frame: the
  // index after its members for a solid head (codec kSolid), index + 1 for
  // any other chunk.
  std::size_t group_end(std::size_t index) const;
  // True when some chunk is a solid block: the bundle is format version 2.
  bool has_solid_blocks() const;
  // The lowest format version that can carry this payload: 3 with a base,
  // 2 with solid blocks, else 1.
  std::uint32_t needed_format_version() const;
};

Bytes encode_payload(const Payload& payload);
// Parses and validates everything that can be checked without the volumes:
// paths are safe and unique, refs point at chunks, each file's size equals
// the sum of its chunks, chunks lie inside their packs, packs inside volumes,
// `sources` decodes (sources.h) and names only those files. Solid blocks
// (codecs kSolid, kMember) exist from format version 2 on: with an earlier
// `format_version` they are refused. A base and codecs kXor, kBase exist
// from version 3 on: every kBase chunk has no pack and no frame, every kXor
// chunk a frame and an inner codec, and either needs a base.
Result<Payload> decode_payload(ByteSpan bytes, std::size_t volume_count, std::uint32_t format_version = 1);

}  // namespace airlock::format
