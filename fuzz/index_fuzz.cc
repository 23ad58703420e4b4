// The bundle index (the file an attacker hands the installer first): the
// container parser and, on what it accepts, the header JSON parser.
#include <cstdint>

#include "core/format/index.h"

using namespace airlock;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan bytes(data, size);
  auto index = format::parse_index(bytes);
  if (index) {
    (void)format::parse_header(index->header);
    (void)format::signed_message(index->header, index->body);
  }
  // The header parser on raw input too, so it sees more than what happens
  // to sit inside a well-formed container.
  (void)format::parse_header(bytes);
  return 0;
}
