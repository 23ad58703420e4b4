// The safetensors header planner: whatever the header says, the segments
// must cover [0, file_size) in order, without gaps or overlaps. The same
// bytes go through the header validator, the GGUF reader and the pickle and
// zip detectors, which must return (an error or a result), never crash.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/safetensors/safetensors.h"
#include "core/safetensors/weights.h"

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
  (void)chunk::validate_safetensors(bytes, file_size);
  (void)weights::parse_gguf(bytes);
  (void)weights::pickle_signature(bytes);
  const weights::ReadAt read = [bytes](std::span<std::uint8_t> out, std::uint64_t offset) -> Status {
    if (offset > bytes.size() || out.size() > bytes.size() - offset) {
      return make_error(ErrorCode::kCorruption, "short");
    }
    std::memcpy(out.data(), bytes.data() + offset, out.size());
    return ok_status();
  };
  (void)weights::zip_pickle_entry(read, bytes.size());
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
