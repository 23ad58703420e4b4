#include "core/chunk/chunker.h"

#include <algorithm>
#include <cstring>

namespace airlock::chunk {

namespace {
constexpr std::size_t k_min_buffer = 4u << 20;
constexpr std::uint64_t k_prefetch = 32u << 20;
}

FileChunker::FileChunker(fs::File& file, std::uint64_t size, const ChunkParams& params, std::vector<Segment> segments)
    : m_file(&file), m_size(size), m_params(params), m_segments(std::move(segments)) {
  // A file smaller than the usual buffer fits whole in a buffer of its own
  // size: no 4 MiB allocation (and page faults) per small file.
  std::uint64_t want = std::max<std::size_t>(k_min_buffer, 2 * static_cast<std::size_t>(params.max_size));
  m_buffer.resize(static_cast<std::size_t>(std::min<std::uint64_t>(want, std::max<std::uint64_t>(size, 1))));
}

Result<FileChunker> FileChunker::open(fs::File& file, std::uint64_t size, const ChunkParams& params) {
  std::vector<Segment> segments;
  if (size > 0) {
    Bytes first(std::min<std::uint64_t>(8, size));
    TRY(file.pread_exact(first, 0));
    // GGUF holds quantized blocks, not plain floats: never byte planes
    // (its magic is no plausible safetensors length either; this says so).
    std::uint64_t need = first.size() >= 4 && std::memcmp(first.data(), "GGUF", 4) == 0
                             ? 0
                             : header_bytes_needed(first, size);
    if (need > 0) {
      Bytes prefix(need);
      TRY(file.pread_exact(prefix, 0));
      segments = plan_segments(prefix, size);
    } else {
      segments.push_back(Segment{0, size, DType::kOther});
    }
  }
  return FileChunker(file, size, params, std::move(segments));
}

Status FileChunker::fill(std::uint64_t want_end) {
  if (want_end <= m_buf_end) {
    return ok_status();
  }
  // Slide the unread tail to the front, then read sequentially to fill up.
  std::uint64_t keep = m_buf_end - m_pos;
  if (m_pos > m_buf_start) {
    std::memmove(m_buffer.data(), m_buffer.data() + (m_pos - m_buf_start), keep);
    m_buf_start = m_pos;
  }
  std::uint64_t read_end = std::min<std::uint64_t>(m_size, m_buf_start + m_buffer.size());
  if (read_end > m_buf_end) {
    std::span<std::uint8_t> dst(m_buffer.data() + (m_buf_end - m_buf_start), read_end - m_buf_end);
    TRY(m_file->pread_exact(dst, m_buf_end));
    m_buf_end = read_end;
    // Keep the device busy ahead of us: ask for the next stretch now, so
    // several reads are in flight while this buffer is being cut and hashed.
    if (read_end < m_size) {
      m_file->prefetch(read_end, std::min<std::uint64_t>(k_prefetch, m_size - read_end));
    }
  }
  return ok_status();
}

Result<std::optional<Chunk>> FileChunker::next() {
  while (m_segment < m_segments.size() && m_pos >= m_segments[m_segment].offset + m_segments[m_segment].length) {
    ++m_segment;
  }
  if (m_segment >= m_segments.size()) {
    return std::optional<Chunk>();
  }
  const Segment& seg = m_segments[m_segment];
  std::uint64_t seg_end = seg.offset + seg.length;
  std::uint64_t window_end = std::min<std::uint64_t>(seg_end, m_pos + m_params.max_size);
  TRY(fill(window_end));
  ByteSpan window(m_buffer.data() + (m_pos - m_buf_start), window_end - m_pos);
  // A tensor is cut every tensor_size bytes from its own start: its chunks
  // depend on its bytes alone, wherever the header puts it, and no rolling
  // hash runs over weights. Everything else is content-defined.
  std::size_t len = seg.tensor && m_params.tensor_size != 0
                        ? static_cast<std::size_t>(std::min<std::uint64_t>(m_params.tensor_size, window.size()))
                        : fastcdc_cut(window, m_params);
  Chunk c;
  c.offset = m_pos;
  c.data = window.first(len);
  c.hint.dtype = seg.dtype;
  std::uint32_t elem = dtype_size(seg.dtype);
  c.hint.element_phase = elem == 0 ? 0 : static_cast<std::uint32_t>((m_pos - seg.offset) % elem);
  m_pos += len;
  return std::optional<Chunk>(c);
}

}  // namespace airlock::chunk
