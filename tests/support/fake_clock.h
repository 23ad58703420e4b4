#pragma once
// A Clock (core/os/clock.h) that reads what the test set: expiry and the
// time floor tested without libfaketime, under the sanitizers too.

#include <atomic>
#include <cstdint>

#include "core/os/clock.h"

namespace airlock::test {

class FakeClock final : public os::Clock {
 public:
  explicit FakeClock(std::int64_t now) : m_now(now) {}
  std::int64_t now_seconds() const override { return m_now.load(); }
  void set(std::int64_t now) { m_now.store(now); }
  void advance(std::int64_t seconds) { m_now.fetch_add(seconds); }

 private:
  std::atomic<std::int64_t> m_now;
};

}  // namespace airlock::test
