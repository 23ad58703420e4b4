#include "core/archive/volume.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>

#include "core/base/interrupt.h"

namespace airlock::archive {

namespace {
constexpr std::size_t k_read_block = 1 << 20;
// Written data is handed to the kernel for writeback every this many bytes,
// so the disk works while we compute and the fsync in finish() waits for
// the last stretch only (it was 0.36 s of idle tail on a 686 MiB volume).
constexpr std::uint64_t k_writeback_step = 16u << 20;
constexpr std::uint64_t k_prefetch = 32u << 20;
}

// ---- writer ----

Result<std::unique_ptr<VolumeWriter>> VolumeWriter::create(const std::filesystem::path& path) {
  std::unique_ptr<VolumeWriter> w(new VolumeWriter());
  ASSIGN_OR_RETURN(w->m_file, fs::File::create_new(path, 0644));
  w->m_archive = archive_write_new();
  archive_write_set_format_pax(w->m_archive);
  // Large blocks, so the write callback sees 1 MiB at a time (at 512 bytes
  // a block libarchive would call it, and write(2), for every 512 bytes),
  // and no padding of the last block: the volume ends right after the
  // end-of-archive marker, so its size is exactly predictable.
  archive_write_set_bytes_per_block(w->m_archive, 1 << 20);
  archive_write_set_bytes_in_last_block(w->m_archive, 1);
  if (archive_write_open2(w->m_archive, w.get(), nullptr, &VolumeWriter::write_cb, nullptr, nullptr) != ARCHIVE_OK) {
    return make_error(ErrorCode::kIOError, "{}: cannot start tar: {}", path.string(),
                      archive_error_string(w->m_archive));
  }
  return w;
}

std::uint64_t VolumeWriter::logical_size() const {
  return static_cast<std::uint64_t>(archive_filter_bytes(m_archive, 0));
}

VolumeWriter::~VolumeWriter() {
  if (m_archive != nullptr) {
    archive_write_free(m_archive);
  }
}

la_ssize_t VolumeWriter::write_cb(struct archive*, void* self, const void* buf, size_t len) {
  auto* w = static_cast<VolumeWriter*>(self);
  ByteSpan data(static_cast<const std::uint8_t*>(buf), len);
  Status st = w->m_file.write_all(data);
  if (!st) {
    w->m_write_error = st.error();
    return -1;
  }
  w->m_hash.update(data);
  w->m_bytes += len;
  if (w->m_bytes - w->m_writeback_from >= k_writeback_step) {
    w->m_file.start_writeback(w->m_writeback_from, w->m_bytes - w->m_writeback_from);
    w->m_writeback_from = w->m_bytes;
  }
  return static_cast<la_ssize_t>(len);
}

Status VolumeWriter::add_entry(const std::string& name, ByteSpan data) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_mtime(e, 0, 0);
  int rc = archive_write_header(m_archive, e);
  archive_entry_free(e);
  if (rc == ARCHIVE_OK) {
    std::size_t done = 0;
    while (done < data.size()) {
      la_ssize_t n = archive_write_data(m_archive, data.data() + done, data.size() - done);
      if (n <= 0) {
        rc = ARCHIVE_FATAL;
        break;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  if (rc != ARCHIVE_OK) {
    if (m_write_error) {
      return std::unexpected(*m_write_error);
    }
    return make_error(ErrorCode::kIOError, "{}: tar write failed: {}", m_file.path().string(),
                      archive_error_string(m_archive));
  }
  return ok_status();
}

Status VolumeWriter::finish() {
  int rc = archive_write_close(m_archive);
  if (rc != ARCHIVE_OK) {
    if (m_write_error) {
      return std::unexpected(*m_write_error);
    }
    return make_error(ErrorCode::kIOError, "{}: tar close failed: {}", m_file.path().string(),
                      archive_error_string(m_archive));
  }
  TRY(m_file.sync());
  TRY(m_file.close());
  m_sha256 = to_hex(m_hash.finish());
  return ok_status();
}

// ---- reader ----

Result<std::unique_ptr<VolumeReader>> VolumeReader::open(fs::File file, std::string display_name,
                                                         std::uint64_t signed_size) {
  std::unique_ptr<VolumeReader> r(new VolumeReader());
  r->m_name = std::move(display_name);
  r->m_limit = signed_size;
  auto size = file.size();
  if (!size) {
    return std::unexpected(Error(size.error()).with_context(r->m_name));
  }
  if (*size != signed_size) {
    return make_error(ErrorCode::kCorruption,
                      "{}: volume is {} bytes, the signed index says {} (truncated or altered); re-copy this volume",
                      r->m_name, *size, signed_size);
  }
  r->m_file = std::move(file);
  r->m_buffer.resize(k_read_block);
  r->m_archive = archive_read_new();
  archive_read_support_format_tar(r->m_archive);
  if (archive_read_open(r->m_archive, r.get(), nullptr, &VolumeReader::read_cb, nullptr) != ARCHIVE_OK) {
    return r->archive_error("not a tar volume");
  }
  return r;
}

VolumeReader::~VolumeReader() {
  if (m_archive != nullptr) {
    archive_read_free(m_archive);
  }
}

la_ssize_t VolumeReader::read_cb(struct archive*, void* self, const void** buf) {
  auto* r = static_cast<VolumeReader*>(self);
  if (Status st = check_interrupt(); !st) {
    r->m_read_error = st.error();
    return -1;
  }
  // Never past the signed size: at it libarchive sees the end of the file
  // (and a tar that needs more is truncated, as far as we are concerned).
  const std::uint64_t left = r->m_limit - r->m_bytes;
  std::span<std::uint8_t> into(r->m_buffer.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, r->m_buffer.size())));
  if (into.empty()) {
    *buf = r->m_buffer.data();
    return 0;
  }
  auto n = r->m_file.read_some(into);
  if (!n) {
    r->m_read_error = n.error();
    return -1;
  }
  r->m_hash.update(ByteSpan(r->m_buffer.data(), *n));
  r->m_bytes += *n;
  // Several reads in flight: keep the kernel reading up to 32 MiB ahead of
  // us (slow media such as USB sticks gain the most).
  if (r->m_prefetched < r->m_bytes + k_prefetch / 2) {
    r->m_prefetched = std::max(r->m_prefetched, r->m_bytes);
    r->m_file.prefetch(r->m_prefetched, k_prefetch);
    r->m_prefetched += k_prefetch;
  }
  *buf = r->m_buffer.data();
  return static_cast<la_ssize_t>(*n);
}

std::unexpected<Error> VolumeReader::archive_error(std::string_view what) {
  if (m_read_error) {
    return std::unexpected(Error(*m_read_error).with_context(m_name));
  }
  const char* msg = archive_error_string(m_archive);
  return std::unexpected(Error(ErrorCode::kCorruption,
      fmt::format("{}: {}{}{}; re-copy this volume", m_name, what, msg ? ": " : "", msg ? msg : "")));
}

Result<std::optional<VolumeReader::Entry>> VolumeReader::next() {
  archive_entry* e = nullptr;
  int rc = archive_read_next_header(m_archive, &e);
  if (rc == ARCHIVE_EOF) {
    return std::optional<Entry>();
  }
  if (rc != ARCHIVE_OK) {
    return archive_error("damaged tar header");
  }
  Entry out;
  const char* name = archive_entry_pathname(e);
  out.name = name ? name : "";
  out.size = static_cast<std::uint64_t>(archive_entry_size(e));
  out.regular = archive_entry_filetype(e) == AE_IFREG;
  return std::optional<Entry>(std::move(out));
}

Status VolumeReader::read_exact(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    la_ssize_t n = archive_read_data(m_archive, out.data() + done, out.size() - done);
    if (n < 0) {
      return archive_error("read failed");
    }
    if (n == 0) {
      return make_error(ErrorCode::kCorruption, "{}: truncated (an entry ends early); re-copy this volume", m_name);
    }
    done += static_cast<std::size_t>(n);
  }
  return ok_status();
}

Result<std::pair<std::uint64_t, std::string>> VolumeReader::finish() {
  // libarchive stops at the end-of-archive marker; hash whatever follows too,
  // so the volume's size and SHA-256 cover every byte of the file.
  // Bounded: up to the signed size, then one more read that must find the
  // end of the file (a volume that grew since open() is refused, not read).
  for (;;) {
    TRY(check_interrupt());
    const std::uint64_t left = m_limit - m_bytes;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, m_buffer.size()));
    auto n = m_file.read_some(std::span<std::uint8_t>(m_buffer.data(), want == 0 ? 1 : want));
    if (!n) {
      return std::unexpected(Error(n.error()).with_context(m_name));
    }
    if (*n == 0) {
      break;
    }
    if (want == 0) {
      return make_error(ErrorCode::kCorruption,
                        "{}: volume goes on past the {} bytes the signed index gives it (altered while read?); "
                        "re-copy this volume",
                        m_name, m_limit);
    }
    m_hash.update(ByteSpan(m_buffer.data(), *n));
    m_bytes += *n;
  }
  return std::make_pair(m_bytes, to_hex(m_hash.finish()));
}

}  // namespace airlock::archive
