#pragma once
// Where the time went, per stage, for --timings. Stages run on workers add
// their CPU time summed over workers, so on a parallel stage the figure can
// exceed the wall time. Thread-safe.

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace airlock {

class Timings {
 public:
  void add(const std::string& stage, std::chrono::steady_clock::duration d);
  // Stages in first-seen order, with seconds.
  std::vector<std::pair<std::string, double>> entries() const;

 private:
  mutable std::mutex m_mutex;
  std::vector<std::pair<std::string, std::chrono::steady_clock::duration>> m_stages;
};

// Adds the time from construction to destruction to `stage` (no-op when null).
class ScopedTimer {
 public:
  ScopedTimer(Timings* timings, const char* stage)
      : m_timings(timings), m_stage(stage), m_start(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() { stop(); }
  // Ends the measurement early; later calls and the destructor do nothing.
  void stop() {
    if (m_timings != nullptr) {
      m_timings->add(m_stage, std::chrono::steady_clock::now() - m_start);
      m_timings = nullptr;
    }
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  Timings* m_timings;
  const char* m_stage;
  std::chrono::steady_clock::time_point m_start;
};

}  // namespace airlock
