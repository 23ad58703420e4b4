#pragma once
// Streams one file as chunks: reads it in large sequential blocks into a
// reused buffer, restarts chunking at every safetensors segment boundary,
// cuts tensors at fixed offsets from their start (ChunkParams::tensor_size)
// and everything else content-defined (FastCDC), and hands out each chunk
// with the codec hint for it.
// Memory: one buffer of max(4 MiB, 2 * max chunk size), or the file's size if
// smaller, whatever the file size.

#include <cstdint>
#include <optional>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/chunk/fastcdc.h"
#include "core/safetensors/safetensors.h"
#include "core/codec/codec.h"
#include "core/fs/file.h"

namespace airlock::chunk {

struct Chunk {
  std::uint64_t offset = 0;  // in the file
  ByteSpan data;             // valid until the next call to next()
  codec::ChunkHint hint;
};

class FileChunker {
 public:
  // Plans the segments (reading the safetensors header if there is one).
  static Result<FileChunker> open(fs::File& file, std::uint64_t size, const ChunkParams& params);

  // The next chunk, or nullopt at the end. kCorruption if the file shrank.
  Result<std::optional<Chunk>> next();

 private:
  FileChunker(fs::File& file, std::uint64_t size, const ChunkParams& params, std::vector<Segment> segments);
  Status fill(std::uint64_t want_end);

  fs::File* m_file;
  std::uint64_t m_size;
  ChunkParams m_params;
  std::vector<Segment> m_segments;
  std::size_t m_segment = 0;
  std::uint64_t m_pos = 0;  // next chunk starts here
  Bytes m_buffer;
  std::uint64_t m_buf_start = 0;  // file offset of m_buffer[0]
  std::uint64_t m_buf_end = 0;    // file offset one past the last valid byte
};

}  // namespace airlock::chunk
