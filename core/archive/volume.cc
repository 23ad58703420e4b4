#include "core/archive/volume.h"

#include <algorithm>
#include <cstring>

#include "core/base/interrupt.h"

namespace airlock::archive {

namespace {
// The writer's buffer: each full one is one direct write (a multiple of the
// 4 KiB alignment), so the disk works while we compute and the fsync in
// finish() has at most the tail to wait for.
constexpr std::size_t k_buffer_size = 8u << 20;
static_assert(k_buffer_size % fs::File::k_direct_align == 0);
constexpr std::uint64_t k_prefetch = 32u << 20;
}

// ---- writer

VolumeWriter::VolumeWriter() : m_tar([this](ByteSpan data) { return write_out(data); }) {}
VolumeWriter::~VolumeWriter() = default;

Result<std::unique_ptr<VolumeWriter>> VolumeWriter::create(const std::filesystem::path& path) {
  std::unique_ptr<VolumeWriter> w(new VolumeWriter());
  ASSIGN_OR_RETURN(w->m_buffer, fs::make_direct_buffer(k_buffer_size));
  ASSIGN_OR_RETURN(w->m_file, fs::File::create_new(path, 0644));
  return w;
}

// Every byte of tar goes through here once: into the hash and the buffer,
// and out to the file a whole buffer at a time.
Status VolumeWriter::write_out(ByteSpan data) {
  m_hash.update(data);
  m_bytes += data.size();
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), k_buffer_size - m_buffered);
    std::memcpy(m_buffer.get() + m_buffered, data.data(), n);
    m_buffered += n;
    data = data.subspan(n);
    if (m_buffered == k_buffer_size) {
      TRY(m_file.pwrite_direct(ByteSpan(m_buffer.get(), m_buffered), m_flushed));
      m_flushed += m_buffered;
      m_buffered = 0;
    }
  }
  return ok_status();
}

// What the buffer holds: its whole aligned blocks directly, the rest (under
// one block: a volume is a multiple of 512 bytes) through the cache.
Status VolumeWriter::flush_buffer() {
  const std::size_t aligned = m_buffered / fs::File::k_direct_align * fs::File::k_direct_align;
  if (aligned > 0) {
    TRY(m_file.pwrite_direct(ByteSpan(m_buffer.get(), aligned), m_flushed));
  }
  if (aligned < m_buffered) {
    TRY(m_file.pwrite_all(ByteSpan(m_buffer.get() + aligned, m_buffered - aligned), m_flushed + aligned));
  }
  m_flushed += m_buffered;
  m_buffered = 0;
  return ok_status();
}

// The tar writer's own refusals name no file; errors of the file do.
Status VolumeWriter::with_path(Status st) const {
  if (!st && st.error().code() == ErrorCode::kInvalidArgument) {
    return std::unexpected(Error(st.error()).with_context(m_file.path().string()));
  }
  return st;
}

Status VolumeWriter::add_entry(const std::string& name, ByteSpan data) {
  return with_path(m_tar.add_entry(name, data));
}

Status VolumeWriter::finish() {
  TRY(with_path(m_tar.finish()));
  TRY(flush_buffer());
  TRY(m_file.sync());
  TRY(m_file.close());
  m_sha256 = to_hex(m_hash.finish());
  return ok_status();
}

// ---- reader

Result<std::unique_ptr<VolumeReader>> VolumeReader::open(fs::File file, std::string display_name,
                                                         std::uint64_t signed_size, bool hash) {
  std::unique_ptr<VolumeReader> r(new VolumeReader());
  r->m_name = std::move(display_name);
  r->m_limit = signed_size;
  r->m_hashing = hash;
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
  VolumeReader* self = r.get();
  r->m_tar.emplace([self](std::span<std::uint8_t> into) { return self->read_some(into); }, r->m_name,
                   signed_size);
  r->m_tar->require_canonical();
  return r;
}

VolumeReader::~VolumeReader() = default;

// The tar reader's only way to the file. Never past the signed size: there
// the tar reader sees the end (and a tar that needs more is truncated, as
// far as we are concerned). Frames are read straight into their buffers.
Result<std::size_t> VolumeReader::read_some(std::span<std::uint8_t> into) {
  if (Status st = check_interrupt(); !st) {
    return std::unexpected(Error(st.error()).with_context(m_name));
  }
  const std::uint64_t left = m_limit - m_bytes;
  into = into.first(static_cast<std::size_t>(std::min<std::uint64_t>(left, into.size())));
  if (into.empty()) {
    return std::size_t{0};
  }
  auto n = m_file.read_some(into);
  if (!n) {
    return std::unexpected(Error(n.error()).with_context(m_name));
  }
  if (m_hashing) {
    m_hash.update(ByteSpan(into.data(), *n));
  }
  m_bytes += *n;
  // Several reads in flight: keep the kernel reading up to 32 MiB ahead of
  // us (slow media such as USB sticks gain the most).
  if (m_prefetched < m_bytes + k_prefetch / 2) {
    m_prefetched = std::max(m_prefetched, m_bytes);
    m_file.prefetch(m_prefetched, k_prefetch);
    m_prefetched += k_prefetch;
  }
  return *n;
}

Result<std::optional<VolumeReader::Entry>> VolumeReader::next() {
  ASSIGN_OR_RETURN(auto e, m_tar->next());
  if (!e) {
    return std::optional<Entry>();
  }
  return std::optional<Entry>(Entry{std::move(e->name), e->size, true});
}

Status VolumeReader::read_exact(std::span<std::uint8_t> out) { return m_tar->read(out); }

Result<std::pair<std::uint64_t, std::string>> VolumeReader::finish() {
  // The tar reader stops at the end-of-archive marker; hash whatever follows
  // too, so the volume's size and SHA-256 cover every byte of the file.
  // Bounded: up to the signed size, then one more read that must find the
  // end of the file (a volume that grew since open() is refused, not read).
  Bytes buffer(1 << 20);
  for (;;) {
    TRY(check_interrupt());
    const std::uint64_t left = m_limit - m_bytes;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
    auto n = m_file.read_some(std::span<std::uint8_t>(buffer.data(), want == 0 ? 1 : want));
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
    if (!m_hashing) {
      return make_error(ErrorCode::kCorruption,
                        "{}: {} bytes follow the end-of-archive marker (Airlock writes none); re-copy this volume",
                        m_name, m_limit - m_bytes);
    }
    m_hash.update(ByteSpan(buffer.data(), *n));
    m_bytes += *n;
  }
  return std::make_pair(m_bytes, m_hashing ? to_hex(m_hash.finish()) : std::string());
}

}  // namespace airlock::archive
