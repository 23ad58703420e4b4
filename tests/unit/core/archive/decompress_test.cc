// core/archive/decompress.h: the apt indexes' compressors, the output cap,
// and a clear error for bytes that are not what they claim to be.

#include "core/archive/decompress.h"

#include <string>

#include <catch2/catch.hpp>

namespace airlock::archive {
namespace {

// gzip.compress(b"Package: a\n", mtime=0)
const unsigned char k_gzip[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x0b,
                                0x48, 0x4c, 0xce, 0x4e, 0x4c, 0x4f, 0xb5, 0x52, 0x48, 0xe4, 0x02,
                                0x00, 0x59, 0x6f, 0x79, 0x97, 0x0b, 0x00, 0x00, 0x00};

std::string gzip_bytes() { return std::string(reinterpret_cast<const char*>(k_gzip), sizeof k_gzip); }

TEST_CASE("decompress reads gzip and passes plain text through", "[archive]") {
  auto text = decompress(gzip_bytes(), 1 << 20, "Packages.gz");
  REQUIRE(text);
  CHECK(*text == "Package: a\n");
  auto plain = decompress("Package: b\n", 1 << 20, "Packages");
  REQUIRE(plain);
  CHECK(*plain == "Package: b\n");
}

TEST_CASE("decompress refuses output past its limit", "[archive]") {
  auto text = decompress(gzip_bytes(), 5, "Packages.gz");
  REQUIRE_FALSE(text);
  CHECK(text.error().code() == ErrorCode::kCorruption);
  CHECK(text.error().message().find("Packages.gz: decompresses to more than 5 bytes") != std::string::npos);
}

TEST_CASE("decompress names the file when a gzip stream is truncated", "[archive]") {
  std::string cut = gzip_bytes().substr(0, 16);
  auto text = decompress(cut, 1 << 20, "Packages.gz");
  REQUIRE_FALSE(text);
  CHECK(text.error().code() == ErrorCode::kCorruption);
  CHECK(text.error().message().starts_with("Packages.gz: "));
}

}  // namespace
}  // namespace airlock::archive
