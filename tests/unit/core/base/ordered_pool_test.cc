#include "core/base/ordered_pool.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace airlock {

// Jobs finish out of order (later slots sleep less); the consumer must still
// see every result, in submission order, with bounded slots reused.
TEST_CASE("ordered pool returns results in submission order", "[base][pool]") {
  for (std::size_t threads : {0, 1, 2, 4}) {
    std::vector<std::uint64_t> input(6);
    std::vector<std::uint64_t> output(6);
    std::atomic<int> calls{0};
    OrderedPool pool(threads, input.size(), [&](std::size_t slot, std::size_t worker) {
      REQUIRE(worker < std::max<std::size_t>(threads, 1));
      std::this_thread::sleep_for(std::chrono::microseconds((slot * 7919) % 300));
      output[slot] = input[slot] * input[slot];
      ++calls;
    });
    std::vector<std::uint64_t> seen;
    std::uint64_t head = 0;
    std::uint64_t tail = 0;
    const std::uint64_t jobs = 200;
    auto consume = [&] {
      std::size_t slot = tail % pool.slots();
      pool.wait(slot);
      seen.push_back(output[slot]);
      ++tail;
    };
    for (std::uint64_t i = 0; i < jobs; ++i) {
      if (head - tail == pool.slots()) {
        consume();
      }
      input[head % pool.slots()] = i;
      pool.submit(head % pool.slots());
      ++head;
    }
    while (tail < head) {
      consume();
    }
    REQUIRE(calls == static_cast<int>(jobs));
    REQUIRE(seen.size() == jobs);
    for (std::uint64_t i = 0; i < jobs; ++i) {
      REQUIRE(seen[i] == i * i);
    }
  }
}

TEST_CASE("ordered pool resolves zero threads to the core count", "[base][pool]") {
  REQUIRE(OrderedPool::resolve_threads(3) == 3);
  REQUIRE(OrderedPool::resolve_threads(0) >= 1);
}

}  // namespace airlock
