// The payload manifest decoder: every path, ref, chunk, pack and size check
// on arbitrary bytes (as if the body decrypted to garbage).
#include <algorithm>
#include <cstdint>

#include "core/format/payload.h"

using namespace airlock;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  // The first byte: the volume count (low 3 bits) and the format version
  // (bits 3-4: 1, 2 with solid blocks, 3 with a base and delta records; 3 again).
  const std::uint32_t version = std::min(3u, 1u + ((data[0] >> 3) & 3u));
  (void)format::decode_payload(ByteSpan(data + 1, size - 1), data[0] % 8, version);
  return 0;
}
