#include "core/base/pipeline.h"

#include <atomic>
#include <vector>

#include <catch2/catch.hpp>

namespace airlock {
namespace {

TEST_CASE("pipeline: drain waits for every slot submitted so far and stays open", "[base][pipeline]") {
  std::vector<int> ring(4);
  std::vector<int> consumed;
  std::atomic<int> next{0};
  Pipeline p(
      2, ring.size(), [&](std::size_t slot, std::size_t) { ring[slot] *= 10; },
      [&](std::size_t slot) -> Status {
        consumed.push_back(ring[slot]);
        return ok_status();
      });
  auto feed = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto slot = p.acquire();
      REQUIRE(slot.has_value());
      ring[*slot] = ++next;
      p.submit(*slot);
    }
  };
  feed(7);
  REQUIRE(p.drain().has_value());
  CHECK(consumed == std::vector<int>{10, 20, 30, 40, 50, 60, 70});  // all of them, in order, before drain returned
  feed(3);
  REQUIRE(p.finish().has_value());
  CHECK(consumed.size() == 10);
  CHECK(consumed.back() == 100);
}

TEST_CASE("pipeline: drain returns the first consume error", "[base][pipeline]") {
  std::vector<int> ring(2);
  int calls = 0;
  Pipeline p(
      0, ring.size(), [](std::size_t, std::size_t) {},
      [&](std::size_t) -> Status {
        ++calls;
        return calls == 2 ? make_error(ErrorCode::kCorruption, "second") : ok_status();
      });
  for (int i = 0; i < 2; ++i) {
    auto slot = p.acquire();
    REQUIRE(slot.has_value());
    p.submit(*slot);
  }
  auto st = p.drain();
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().message() == "second");
  CHECK_FALSE(p.finish().has_value());
}

}  // namespace
}  // namespace airlock
