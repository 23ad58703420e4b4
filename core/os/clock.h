#pragma once
// The wall clock, as a seam (leveldb's Env::NowMicros): everything that asks
// "what time is it" for a decision or a record (bundle expiry, the time
// floor, ledger event times, the apt index's Date) asks a Clock passed down
// to it, never the system directly, so tests can set the time
// (tests/support/fake_clock.h) without libfaketime.
//
// Implementations must be safe to call from any thread.

#include <cstdint>

namespace airlock::os {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch (UTC), as time(2) gives them.
  virtual std::int64_t now_seconds() const = 0;
};

// The system's real-time clock (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  std::int64_t now_seconds() const override;
};

}  // namespace airlock::os
