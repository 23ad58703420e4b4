#include "core/crypto/sha1.h"

#include <catch2/catch.hpp>

namespace airlock::crypto {
namespace {

TEST_CASE("sha1: FIPS 180 test vectors, and reuse after finish", "[sha1]") {
  Sha1 h;
  h.update(as_bytes("abc"));
  CHECK(to_hex(h.finish()) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(to_hex(h.finish()) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");  // reset: the empty message
  h.update(as_bytes("abcdbcdecdefdefgefghfghighij"));
  h.update(as_bytes("hijkijkljklmklmnlmnomnopnopq"));
  CHECK(to_hex(h.finish()) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

}  // namespace
}  // namespace airlock::crypto
