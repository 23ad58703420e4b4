#pragma once
// The installed base of a delta bundle (format version 3): found by the
// bundle id and version the signed payload names, its chunk set checked
// against the payload's digest, and its chunks read back from its installed
// files through the chunk map the ledger kept when it was installed. Every
// chunk read is checked against its SHA-256 before its bytes are used.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/base/progress.h"
#include "core/format/delta.h"
#include "core/format/payload.h"
#include "core/fs/file.h"
#include "installer/site/site.h"

namespace airlock::installer {

class BaseChunks {
 public:
  // payload.base must be set. Refuses, naming the version it needs:
  // kNotFound when that version is not installed here (never was, or gc
  // removed it) or was installed before the ledger kept chunk maps;
  // kCorruption when the installed version's chunk set is not the one the
  // bundle was made against (another bundle of the same version, or a
  // ledger edited since).
  static Result<std::unique_ptr<BaseChunks>> open(Site& site, const format::Payload& payload);

  // Reads chunk `id` (out.size() bytes) from the base's files and checks it:
  // kCorruption naming the file when the bytes there are not the chunk (the
  // base was damaged since it was installed, or the chunk is not the base's:
  // the payload contradicts the chunk set it names). Thread-safe.
  Status read(const crypto::Digest& id, std::span<std::uint8_t> out) const;
  bool has(const crypto::Digest& id) const { return m_index.contains(id); }
  // "NAME VERSION (bundle ID)"
  const std::string& describe() const { return m_describe; }

 private:
  BaseChunks() = default;
  std::filesystem::path m_dir;
  std::string m_describe;
  format::ChunkMap m_map;
  std::unordered_map<crypto::Digest, format::ChunkMap::Place, format::DigestHasher> m_index;
  mutable std::mutex m_open_mutex;
  mutable std::vector<std::unique_ptr<fs::File>> m_files;
};

// What a delta install needs from its base, checked before anything is
// written: every chunk of codec kBase that a file to write references, and
// every XOR frame's base chunk, read and hashed, on `threads` threads (0:
// one per core). `skip[i]`: file i is hardlinked, not written. Returns the
// bytes read.
Result<std::uint64_t> check_base_chunks(const BaseChunks& base, const format::Payload& payload,
                                        const std::vector<bool>& skip, const ProgressFn& progress,
                                        std::size_t threads = 0);

// Reads the chunks `indices` (of codec kBase) from the base, checked, a
// batch at a time on `threads` threads, and hands each to `sink` in order
// on the calling thread. Returns the bytes read.
Result<std::uint64_t> read_base_chunks(const BaseChunks& base, const format::Payload& payload,
                                       const std::vector<std::uint32_t>& indices,
                                       const std::function<Status(std::uint32_t, ByteSpan)>& sink,
                                       std::size_t threads = 0);

}  // namespace airlock::installer
