#pragma once
// The tar subset Airlock writes and reads, and nothing else (docs/FORMAT.md
// §7). Both programs use it: the bundler for volumes, the installer for
// reading them and for writing a docker-archive.
//
// Written: one POSIX ustar header per regular file (mode 0644, uid/gid 0,
// mtime 0, no owner names), preceded by a pax 'x' extended header only where
// ustar cannot hold the value (a path over 100 bytes: "path"; a size of
// 8 GiB or more: "size"); data padded to 512 bytes; two zero blocks at the
// end and nothing after them. For every entry Airlock puts in a volume the
// bytes are those libarchive's pax writer produced for the same entry.
//
// Read: the same, strictly. Header checksums are verified, magic and version
// must be ustar "00", numeric fields must be plain octal, the typeflag must
// be '0' (or '\0') or an 'x' header carrying only "path" and "size"; every
// other kind of entry (links, devices, FIFOs, directories, GNU long names,
// sparse files, global headers, ...) is refused with an error naming the
// volume and the entry. Every error is kCorruption unless the source failed.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/error.h"

namespace airlock::archive::tar {

inline constexpr std::size_t k_block_size = 512;
// Longest path an entry may have, and most bytes of pax records one entry
// may carry (a "path" of k_max_path bytes and a "size" fit well within it).
inline constexpr std::size_t k_max_path = 4096;
inline constexpr std::size_t k_max_pax_header = 8192;

// Receives every byte the writer produces, in order. An error stops the writer.
using Sink = std::function<Status(ByteSpan)>;
// Reads up to out.size() bytes into out and returns how many; 0 at the end.
using Source = std::function<Result<std::size_t>(std::span<std::uint8_t>)>;

class Writer {
 public:
  explicit Writer(Sink sink) : m_sink(std::move(sink)) {}

  // Starts a regular file of exactly `size` bytes. kInvalidArgument for an
  // empty name, a NUL in it or one longer than k_max_path, and when the
  // previous entry is not complete.
  Status begin_entry(std::string_view name, std::uint64_t size);
  // Data of the current entry; kInvalidArgument past its size.
  Status write(ByteSpan data);
  // Pads the current entry; kInvalidArgument when fewer than size bytes came.
  Status end_entry();
  // begin_entry + write + end_entry.
  Status add_entry(std::string_view name, ByteSpan data);
  // Writes the end-of-archive marker (1024 zero bytes). Nothing after it.
  Status finish();

  std::uint64_t bytes_written() const { return m_bytes; }

 private:
  Status emit(ByteSpan data);

  Sink m_sink;
  std::uint64_t m_bytes = 0;
  std::uint64_t m_left = 0;     // data the current entry still needs
  std::uint64_t m_padding = 0;  // zeros after it
  bool m_in_entry = false;
  bool m_finished = false;
};

struct Entry {
  std::string name;  // as stored: a path, not yet checked for "..", "/" etc.
  std::uint64_t size = 0;
};

class Reader {
 public:
  // Reads the tar from `source`, which holds exactly `total_size` bytes
  // (an entry that claims more than is left is refused before its data is
  // read). `volume` names the source in every error.
  Reader(Source source, std::string volume, std::uint64_t total_size)
      : m_source(std::move(source)), m_volume(std::move(volume)), m_total(total_size) {}

  // The next entry, or nullopt at the end-of-archive marker (after which
  // the reader reads nothing more: what follows is the caller's). Skips
  // whatever the caller left unread of the previous entry.
  Result<std::optional<Entry>> next();
  // Exactly out.size() bytes of the current entry's data, straight into out;
  // kCorruption when the entry has fewer left.
  Status read(std::span<std::uint8_t> out);

  // Bytes taken from the source so far.
  std::uint64_t consumed() const { return m_consumed; }

  // From now on, every byte outside entry data must be the byte Writer
  // writes: each entry's headers (pax and ustar) equal header_bytes(name,
  // size), padding is zeros, and the caller must read each entry's data in
  // full before next(). So an archive is then fixed by its entries' names,
  // sizes and data alone (Airlock volumes; not the docker-archive reader).
  void require_canonical() { m_canonical = true; }

 private:
  Status read_exact(std::span<std::uint8_t> out, std::string_view what);
  Status skip(std::uint64_t n, std::string_view what);
  Status read_padding(std::uint64_t n, std::string_view what);
  std::string where() const;

  Source m_source;
  std::string m_volume;
  std::uint64_t m_total = 0;
  std::uint64_t m_consumed = 0;
  std::uint64_t m_data_left = 0;  // of the current entry
  std::uint64_t m_padding = 0;    // after it
  std::string m_entry;            // the current entry's name (escaped), for errors
  bool m_at_end = false;
  bool m_canonical = false;
  Bytes m_raw;                    // canonical: the current entry's header bytes as read
};

// The header bytes Writer::begin_entry writes for a regular file `name` of
// `size` bytes (pax header where ustar cannot hold a value, then ustar).
// The caller has checked the name and size (begin_entry does).
Bytes header_bytes(std::string_view name, std::uint64_t size);

}  // namespace airlock::archive::tar
