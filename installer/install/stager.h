#pragma once
// Receives verified chunks and lays them into the staged files of a version:
// every reference of a chunk is written at its offset, and each file's
// SHA-256 is computed in file order as its chunks arrive (chunks that arrived
// earlier are read back from the staged file, never from the media).
// With no staging directory it only hashes (installer verify).

#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/crypto/sha256.h"
#include "core/format/payload.h"
#include "core/os/file_system.h"

namespace airlock::installer {

class Stager {
 public:
  // `skip[i]` true: file i is not written (it will be hardlinked instead).
  // `tree` empty: nothing is written at all (verify only). Every file-system
  // call goes through `files` (core/os/file_system.h), which must outlive this.
  Stager(os::FileSystem& files, const format::Payload& payload, std::filesystem::path tree, std::vector<bool> skip);

  // Creates every file to write, reserving its full size (a full disk fails here).
  Status create_files();
  // Instead of create_files, for an install resumed after an interruption:
  // every file to write must be there as a previous run staged it
  // (StagedFile::check_staged; kCorruption otherwise, and the caller starts
  // afresh), and the chunks of the volumes in `done` count as delivered:
  // their bytes are read back from the staged files as each file is hashed
  // whole, so a staged byte changed since is still found (finish()).
  Status resume_files(const std::vector<bool>& done_volumes);
  Status on_chunk(std::uint32_t chunk_index, ByteSpan plain);
  // Checks that every written file was completely hashed and matched, closes
  // them, and makes them durable with one syncfs(2) on the staging file system
  // (FileSystem::sync_file_system). In verify-only mode, files whose chunks arrived out of
  // order are only chunk-verified; their count is returned.
  Result<std::size_t> finish();

 private:
  struct FileState {
    std::uint64_t next_ref = 0;      // next reference (relative to first_ref) to hash
    std::uint64_t hashed_bytes = 0;
    std::unique_ptr<crypto::Sha256> hash;
    bool done = false;
    bool gave_up = false;            // verify only: needed bytes we no longer have
    std::uint64_t written_end = 0;     // highest offset written so far
    std::uint64_t writeback_from = 0;  // bytes before this were handed to start_writeback
  };

  Result<os::StagedFile*> open_file(std::uint32_t file_index);
  Status advance(std::uint32_t file_index, std::uint32_t chunk_index, ByteSpan plain);
  std::filesystem::path path_of(std::uint32_t file_index) const;

  os::FileSystem& m_files;
  const format::Payload& m_payload;
  std::filesystem::path m_tree;
  std::vector<bool> m_skip;
  std::vector<bool> m_delivered;
  std::vector<std::uint64_t> m_ref_offset;             // per global ref: offset in its file
  std::vector<std::uint32_t> m_ref_file;               // per global ref: file index
  std::vector<std::vector<std::uint32_t>> m_chunk_refs;  // per chunk: global refs
  std::vector<FileState> m_state;
  std::unordered_map<std::uint32_t, std::unique_ptr<os::StagedFile>> m_open;   // a few open files, reopened as needed
  std::list<std::uint32_t> m_open_order;
  Bytes m_readback;
};

}  // namespace airlock::installer
