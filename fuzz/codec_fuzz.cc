// Two properties of the chunk codecs, on arbitrary bytes:
//  1. decode never crashes, never writes past the signed size, and either
//     fails with kCorruption or fills the output exactly;
//  2. encode then decode gives back the input, for every dtype and phase.
// Input: byte 0 picks the property and codec/dtype, byte 1 the phase, bytes
// 2..4 the output size for property 1; the rest is the data.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/base/bytes.h"
#include "core/codec/codec.h"

using namespace airlock;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) {
    return 0;
  }
  static codec::Encoder encoder;
  static codec::Decoder decoder;
  const std::uint8_t mode = data[0];
  const ByteSpan rest(data + 5, size - 5);
  if ((mode & 0x80) == 0) {
    const auto which = static_cast<codec::Codec>(mode % 3);
    // Up to 4 MiB, the largest a chunk can be.
    const std::size_t out_size = (data[2] | (data[3] << 8) | (data[4] << 16)) % (4u << 20);
    Bytes out(out_size);
    const Status st = decoder.decode(which, rest, out);
    if (!st && st.error().code() != ErrorCode::kCorruption) {
      std::abort();  // a malformed stream must be corruption, nothing else
    }
    return 0;
  }
  const auto dtype = static_cast<chunk::DType>(mode % 4);
  codec::ChunkHint hint{dtype, data[1]};
  Bytes stored;
  const codec::Codec used = encoder.encode(rest, hint, stored);
  if (stored.size() > rest.size()) {
    std::abort();  // the stored form is never larger than the chunk
  }
  Bytes back(rest.size());
  if (!decoder.decode(used, stored, back) || !std::equal(back.begin(), back.end(), rest.begin())) {
    std::abort();  // lossless, or it is a bug
  }
  return 0;
}
