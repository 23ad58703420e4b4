#include "core/codec/planes.h"

#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace airlock::codec {

// The fast split/join must agree byte for byte with the plain reference
// loops for every element size, phase and length, including lengths that
// end mid-element and chunks shorter than one element; and join must undo
// split.
TEST_CASE("planes: split and join match the reference for every phase and length", "[codec]") {
  std::mt19937_64 rng(42);
  std::vector<std::uint8_t> in(700);
  for (auto& b : in) {
    b = static_cast<std::uint8_t>(rng());
  }
  for (std::uint32_t elem : {2u, 4u}) {
    for (std::uint32_t phase = 0; phase < elem; ++phase) {
      for (std::size_t n = 0; n <= in.size(); ++n) {
        CAPTURE(elem, phase, n);
        std::vector<std::vector<std::uint8_t>> fast(elem), slow(elem);
        std::uint8_t* fp[4] = {};
        std::uint8_t* sp[4] = {};
        std::size_t total = 0;
        for (std::uint32_t k = 0; k < elem; ++k) {
          // One spare byte past each plane, which must stay untouched.
          const std::size_t size = plane_size(n, elem, phase, k);
          total += size;
          fast[k].assign(size + 1, 0xa5);
          slow[k].assign(size + 1, 0xa5);
          fp[k] = fast[k].data();
          sp[k] = slow[k].data();
        }
        REQUIRE(total == n);
        split_planes(in.data(), n, elem, phase, fp);
        split_planes_scalar(in.data(), n, elem, phase, sp);
        REQUIRE(fast == slow);
        for (std::uint32_t k = 0; k < elem; ++k) {
          REQUIRE(fast[k].back() == 0xa5);
        }

        const std::uint8_t* cp[4] = {fp[0], fp[1], elem > 2 ? fp[2] : nullptr,
                                     elem > 2 ? fp[3] : nullptr};
        std::vector<std::uint8_t> back(n + 1, 0x5a), ref(n + 1, 0x5a);
        join_planes(cp, n, elem, phase, back.data());
        join_planes_scalar(cp, n, elem, phase, ref.data());
        REQUIRE(back == ref);
        REQUIRE(std::equal(back.begin(), back.begin() + static_cast<std::ptrdiff_t>(n), in.begin()));
        REQUIRE(back[n] == 0x5a);
      }
    }
  }
}

TEST_CASE("planes: bf16 plane 1 holds the high byte of each element", "[codec]") {
  const std::vector<std::uint8_t> in = {0x01, 0x81, 0x02, 0x82, 0x03, 0x83};
  std::vector<std::uint8_t> lo(3), hi(3);
  std::uint8_t* p[2] = {lo.data(), hi.data()};
  split_planes(in.data(), in.size(), 2, 0, p);
  CHECK(lo == std::vector<std::uint8_t>{0x01, 0x02, 0x03});
  CHECK(hi == std::vector<std::uint8_t>{0x81, 0x82, 0x83});
}

}  // namespace airlock::codec
