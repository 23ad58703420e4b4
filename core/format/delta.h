#pragma once
// Delta bundles (format version 3, docs/FORMAT.md §3 and §12): what both
// sides must compute alike. The bundler names its base by the digest of the
// base's chunk set; the installer recomputes that digest from the chunk map
// it recorded when it installed the base, and reads omitted chunks back
// from the base's installed files through that map.

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/crypto/sha256.h"
#include "core/format/payload.h"

namespace airlock::format {

struct DigestHasher {
  std::size_t operator()(const crypto::Digest& d) const {
    std::size_t h = 0;
    std::memcpy(&h, d.data(), sizeof(h));  // SHA-256 output is uniform
    return h;
  }
};

// SHA-256 of "airlock-chunk-set-v1", the count (u64 LE) and the distinct ids
// in ascending byte order. `ids` may repeat and be in any order.
crypto::Digest chunk_set_digest(std::vector<crypto::Digest> ids);

// Where each chunk of an installed version lies: its files (paths relative
// to the version directory) and, per file, its chunks in order.
struct ChunkMap {
  struct File {
    std::string path;
    std::vector<std::pair<crypto::Digest, std::uint32_t>> chunks;  // id, size
  };
  std::vector<File> files;

  struct Place {
    std::uint32_t file = 0;
    std::uint64_t offset = 0;
    std::uint32_t size = 0;
  };
  // The first place of each distinct chunk.
  std::unordered_map<crypto::Digest, Place, DigestHasher> index() const;
  std::vector<crypto::Digest> ids() const;
};

// The chunk map of the version a payload installs (every file, every chunk,
// including those read back from a base).
ChunkMap chunk_map_of(const Payload& payload);
// Compact binary form kept in the installer's ledger ("ALCMAP1\0", then per
// file: path length u32, path, chunk count u64, then id(32) || size u32 each).
Bytes encode_chunk_map(const ChunkMap& map);
// kCorruption for anything malformed (caps: 1M files, paths of 4096 bytes,
// sizes of 64 MiB per chunk).
Result<ChunkMap> decode_chunk_map(ByteSpan bytes);

}  // namespace airlock::format
