#pragma once
// Volumes are tar files (the strict subset of core/archive/tar.h) holding
// pack files. The writer hashes every byte it emits; the reader reads every
// byte canonically and, unless told not to, hashes it, to the end of the
// file, so a volume is read exactly once.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/crypto/sha256.h"
#include "core/archive/tar.h"
#include "core/fs/file.h"

namespace airlock::archive {

// Bytes of tar framing one entry may cost beyond its data (pax extended
// header, ustar header, padding), and the end-of-archive marker.
inline constexpr std::uint64_t k_entry_overhead = 4096;
inline constexpr std::uint64_t k_archive_trailer = 1024;

class VolumeWriter {
 public:
  static Result<std::unique_ptr<VolumeWriter>> create(const std::filesystem::path& path);
  ~VolumeWriter();
  VolumeWriter(const VolumeWriter&) = delete;  // the tar writer's sink points here
  VolumeWriter& operator=(const VolumeWriter&) = delete;

  // Adds a regular file entry (mode 0644, mtime 0, owner 0) holding `data`.
  Status add_entry(const std::string& name, ByteSpan data);
  // Writes the end-of-archive marker, fsyncs, and returns size and SHA-256.
  Status finish();
  std::uint64_t bytes_written() const { return m_bytes; }
  // Bytes of tar produced so far (some may still be in the write buffer).
  std::uint64_t logical_size() const { return m_bytes; }
  std::string sha256_hex() const { return m_sha256; }

 private:
  VolumeWriter();
  Status write_out(ByteSpan data);
  Status flush_buffer();
  Status with_path(Status st) const;

  fs::File m_file;
  tar::Writer m_tar;
  crypto::Sha256 m_hash;
  std::uint64_t m_bytes = 0;
  // A volume is written around the page cache (fs::File::pwrite_direct) in
  // whole buffers of k_buffer_size: the bytes of tar gather here; the file
  // holds m_flushed bytes; finish() writes the unaligned tail through the
  // cache. On this project's VM the cache's copy and writeback cost the
  // kernel 1.4-5.3 s per 2 GiB written, direct writes 0.34 s.
  fs::DirectBuffer m_buffer;
  std::size_t m_buffered = 0;
  std::uint64_t m_flushed = 0;
  std::string m_sha256;
};

class VolumeReader {
 public:
  // Reads `file`, which must be `signed_size` bytes (the size the signed
  // index gives this volume; the caller opened it with
  // fs::File::open_regular): kCorruption naming the volume when fstat says
  // otherwise, before a byte is read. No read goes past signed_size, so a
  // file that grows while it is read cannot keep us reading, and every read
  // checks for SIGINT/SIGTERM (kInterrupted).
  //
  // Every volume is read canonically (tar::Reader::require_canonical): each
  // entry's data must be read in full, and every other byte must be what
  // VolumeWriter writes. `hash` false: no SHA-256 is computed, and finish()
  // instead refuses any byte after the end-of-archive marker; the file is
  // then fixed by its entries' names, sizes and data, which the caller checks
  // (install of an encrypted bundle: names and sizes against the signed pack
  // table, data frame by frame by AES-GCM).
  static Result<std::unique_ptr<VolumeReader>> open(fs::File file, std::string display_name,
                                                    std::uint64_t signed_size, bool hash = true);
  ~VolumeReader();
  VolumeReader(const VolumeReader&) = delete;  // the tar reader's source points here
  VolumeReader& operator=(const VolumeReader&) = delete;

  struct Entry {
    std::string name;
    std::uint64_t size = 0;
    bool regular = false;  // always true: the tar reader refuses every other kind
  };
  // The next entry, or nullopt at the end of the archive; kCorruption naming
  // the volume and the entry for anything outside the tar subset.
  Result<std::optional<Entry>> next();
  // Reads exactly out.size() bytes of the current entry's data.
  Status read_exact(std::span<std::uint8_t> out);
  // Reads whatever is left in the file (after the end-of-archive marker, up to
  // the signed size) into the hash, then returns total bytes and SHA-256 of
  // the whole file (empty when not hashing); kCorruption if the file goes on
  // past the signed size, or, when not hashing, past the end marker.
  Result<std::pair<std::uint64_t, std::string>> finish();

 private:
  VolumeReader() = default;
  Result<std::size_t> read_some(std::span<std::uint8_t> into);

  fs::File m_file;
  std::string m_name;
  std::optional<tar::Reader> m_tar;
  crypto::Sha256 m_hash;
  bool m_hashing = true;
  std::uint64_t m_bytes = 0;
  std::uint64_t m_limit = 0;  // the signed size: never read past it
  std::uint64_t m_prefetched = 0;  // asked the kernel to read up to here
};

}  // namespace airlock::archive
