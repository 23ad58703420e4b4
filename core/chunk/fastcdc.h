#pragma once
// FastCDC content-defined chunking with normalized chunking (Xia et al.,
// USENIX ATC'16 and the 2020 TPDS paper): a gear rolling hash, a stricter
// mask below the average size and a looser one above it.
//
// Thread-safe: pure functions over caller-owned memory.

#include <cstddef>
#include <cstdint>

#include "core/base/bytes.h"

namespace airlock::chunk {

struct ChunkParams {
  std::uint32_t min_size = 64 * 1024;
  std::uint32_t avg_size = 256 * 1024;  // must be a power of two
  std::uint32_t max_size = 1024 * 1024;
  // Inside a safetensors tensor, chunks are cut at fixed offsets from the
  // tensor's own start, every tensor_size bytes (the last one shorter), with
  // no rolling hash (chunk::FileChunker). 0: FastCDC there too. At most
  // max_size.
  std::uint32_t tensor_size = 1024 * 1024;
};

// Length of the first chunk of `data`. `data` is the rest of the current
// segment, or at least `max_size` bytes of it: if data.size() <= min_size the
// whole of it is one chunk; a cut never lies past max_size. Deterministic:
// the same bytes give the same cut whatever follows beyond the cut point.
std::size_t fastcdc_cut(ByteSpan data, const ChunkParams& params);

}  // namespace airlock::chunk
