// The payload manifest decoder: every path, ref, chunk, pack and size check
// on arbitrary bytes (as if the body decrypted to garbage).
#include <cstdint>

#include "core/format/payload.h"

using namespace airlock;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  (void)format::decode_payload(ByteSpan(data + 1, size - 1), data[0] % 8);
  return 0;
}
