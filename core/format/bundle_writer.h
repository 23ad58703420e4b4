#pragma once
// Writes a bundle: chunks every input file, stores each distinct chunk once
// as an (encrypted) frame in a pack, packs into pax-tar volumes no larger
// than the volume size, then seals the index (encrypted body, signatures).
//
// Memory is bounded by the pack size plus the chunker's buffer, whatever the
// input size; the payload manifest grows by ~70 bytes per chunk.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/base/progress.h"
#include "core/base/timings.h"
#include "core/crypto/aead.h"
#include "core/crypto/sodium.h"
#include "core/format/delta.h"
#include "core/format/index.h"
#include "core/format/payload.h"

namespace airlock::format {

struct InputFile {
  std::filesystem::path source;
  std::string path;  // path inside the deployment ("model/...", dest/...)
  std::uint32_t mode = 0644;
  std::uint64_t size = 0;
};

// Smallest volume size accepted: room for the largest frame and tar framing.
inline constexpr std::uint64_t k_min_volume_size = 4u << 20;
inline constexpr std::uint64_t k_default_pack_size = 32u << 20;
inline constexpr std::uint64_t k_default_solid_file_max = 64u << 10;

// What a delta bundle leaves out (format version 3), as the bundler knows
// its base (bundler/delta.h).
struct DeltaInput {
  // Every chunk id the base version holds: such chunks get a record of codec
  // kBase and no frame.
  std::unordered_set<crypto::Digest, DigestHasher> chunks;
  // For the tensor chunk of input `file` at `offset` (`size` bytes): the
  // base chunk of the same tensor at the same place, its id into `id` and
  // its bytes into `bytes`; false when there is none. Called on the
  // producer's thread; a worker checks the bytes against the id and keeps
  // the XOR only when it encodes smaller.
  std::function<bool(std::uint32_t file, std::uint64_t offset, std::uint64_t size, crypto::Digest& id, Bytes& bytes)>
      xor_base;
};

struct WriteOptions {
  std::filesystem::path dir;  // volumes are created here (must exist)
  std::string base_name;      // "NAME-VERSION"; volumes are base_name.volNNN.tar
  std::uint64_t volume_size = 0;
  // When set, each volume's size limit instead, asked as the volume is
  // started, given the volumes finished before it (create --media: what is
  // left on the current medium); at least k_min_volume_size.
  std::function<Result<std::uint64_t>(const std::vector<VolumeInfo>& done)> volume_limit;
  std::uint64_t pack_size = k_default_pack_size;
  chunk::ChunkParams chunking;
  Bytes bundle_id;                          // 16 bytes
  std::optional<crypto::AeadKey> data_key;  // nullopt: frames are not encrypted
  int zstd_level = 1;  // for chunks that are not 16/32-bit floats
  // Files of at most this many bytes that are one chunk (and no tensor) are
  // packed together into solid blocks of up to chunking.max_size bytes, one
  // zstd frame each (format version 2). 0: never; every chunk its own frame.
  std::uint64_t solid_file_max = k_default_solid_file_max;
  std::size_t threads = 0;  // workers hashing and encoding chunks; 0 = one per core
  const DeltaInput* delta = nullptr;  // set: a delta bundle against that base
  ProgressFn progress;
  Timings* timings = nullptr;
};

struct WriteResult {
  Payload payload;  // files, chunks, refs and packs; name/version/activate left to the caller
  std::vector<VolumeInfo> volumes;
  std::uint64_t input_bytes = 0;
  std::uint64_t stored_bytes = 0;  // sum of frame sizes
  // Delta bundles: distinct chunks left out (read back from the base), and
  // distinct chunks shipped as XOR frames (their plaintext and frame bytes).
  std::uint64_t base_chunks = 0;
  std::uint64_t base_bytes = 0;
  std::uint64_t xor_chunks = 0;
  std::uint64_t xor_bytes = 0;
  std::uint64_t xor_stored = 0;
};

Result<WriteResult> write_volumes(const std::vector<InputFile>& inputs, const WriteOptions& options);

struct Signer {
  std::string keyid;
  crypto::SignSecretKey secret{};
};

// Compresses and (with a data key) encrypts the payload into the body, and
// signs header + body with every signer. Returns the serialized index. The
// header written says format version 2 when the payload has solid blocks.
Result<Bytes> seal_index(const Header& header, const Payload& payload, const std::optional<crypto::AeadKey>& data_key,
                         const std::vector<Signer>& signers);

}  // namespace airlock::format
