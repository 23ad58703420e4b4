#pragma once
// Receives verified chunks and lays them into the staged files of a version:
// every reference of a chunk is written at its offset. Nothing is hashed
// again: each chunk's bytes were checked against its signed chunk id (and
// AES-GCM tag) by the reader, and a file is the concatenation of its signed
// references, so its signed SHA-256 holds by construction (docs/SECURITY.md,
// "What each check proves"). The exception is a resumed install: bytes an
// earlier run staged are read back and checked against their chunk ids.
// With no staging directory it only counts (installer verify).

#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/crypto/sha256.h"
#include "core/format/payload.h"
#include "core/fs/file.h"
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
  // finish() reads each of their places back and checks it against the
  // chunk id, so a staged byte changed since is found.
  Status resume_files(const std::vector<bool>& done_volumes);
  Status on_chunk(std::uint32_t chunk_index, ByteSpan plain);
  // True when some file to write references the chunk and it has not arrived.
  bool wanted(std::uint32_t chunk_index) const;
  // Writes out what is held in memory (the run below), so every chunk
  // handed to on_chunk so far is in its files (before a resume record
  // says so).
  Status flush();
  // Checks that every chunk of every written file arrived (and, resumed, that
  // the bytes staged before are still theirs), closes the files, and makes
  // them durable with one syncfs(2) on the staging file system
  // (FileSystem::sync_file_system).
  Status finish();

 private:
  struct FileState {
    std::uint64_t refs_left = 0;       // references whose chunk has not arrived
    std::uint64_t written_end = 0;     // highest offset written so far
    std::uint64_t writeback_from = 0;  // bytes before this were handed to start_writeback
  };

  Result<os::StagedFile*> open_file(std::uint32_t file_index);
  Status deliver(std::uint32_t chunk_index);
  Status write_place(std::uint32_t f, std::uint64_t offset, ByteSpan plain);
  Status flush_run(bool all);

  // Large files are written around the page cache (StagedFile::pwrite_direct):
  // consecutive places of one file gather here, aligned to file offsets, and
  // go out as whole aligned blocks; the unaligned ends of a run go through
  // the cache. On this project's VM a buffered write of 2 GiB and its fsync
  // cost 1.4-5.3 s of kernel time, direct writes 0.3 s (docs/ARCHITECTURE.md).
  struct Run {
    bool active = false;
    std::uint32_t file = 0;
    std::uint64_t base = 0;   // file offset of m_run_buffer[0], aligned
    std::uint64_t start = 0;  // first byte not yet written
    std::uint64_t end = 0;    // one past the last byte held
  };
  Run m_run;
  fs::DirectBuffer m_run_buffer;
  Status check_prior();
  std::filesystem::path path_of(std::uint32_t file_index) const;

  os::FileSystem& m_files;
  const format::Payload& m_payload;
  std::filesystem::path m_tree;
  std::vector<bool> m_skip;
  std::vector<bool> m_delivered;
  std::vector<bool> m_prior;  // delivered by an earlier run (resume_files)
  std::vector<std::uint64_t> m_ref_offset;             // per global ref: offset in its file
  std::vector<std::uint32_t> m_ref_file;               // per global ref: file index
  std::vector<std::vector<std::uint32_t>> m_chunk_refs;  // per chunk: global refs
  std::vector<FileState> m_state;
  std::unordered_map<std::uint32_t, std::unique_ptr<os::StagedFile>> m_open;   // a few open files, reopened as needed
  std::list<std::uint32_t> m_open_order;
  Bytes m_readback;
};

}  // namespace airlock::installer
