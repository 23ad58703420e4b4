// The safetensors header planner: whatever the header says, the segments
// must cover [0, file_size) in order, without gaps or overlaps.
#include <cstdint>
#include <cstdlib>

#include "core/safetensors/safetensors.h"

using namespace airlock;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) {
    return 0;
  }
  // The file is the input followed by some tensor bytes we never read: the
  // planner only sees the prefix.
  const std::uint64_t extra = (static_cast<std::uint64_t>(data[0]) << 16) | data[1];
  const std::uint64_t file_size = size + extra;
  const ByteSpan bytes(data, size);
  const std::uint64_t need = chunk::header_bytes_needed(bytes.first(8), file_size);
  if (need > size) {
    return 0;
  }
  const auto segments = chunk::plan_segments(bytes.first(need == 0 ? size : need), file_size);
  std::uint64_t at = 0;
  for (const auto& s : segments) {
    if (s.offset != at || s.length == 0) {
      std::abort();
    }
    at += s.length;
  }
  if (at != file_size && !(file_size == 0 && segments.empty())) {
    std::abort();
  }
  return 0;
}
