#include "core/base/timings.h"

namespace airlock {

void Timings::add(const std::string& stage, std::chrono::steady_clock::duration d) {
  std::lock_guard<std::mutex> lock(m_mutex);
  for (auto& [name, total] : m_stages) {
    if (name == stage) {
      total += d;
      return;
    }
  }
  m_stages.emplace_back(stage, d);
}

std::vector<std::pair<std::string, double>> Timings::entries() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [name, total] : m_stages) {
    out.emplace_back(name, std::chrono::duration<double>(total).count());
  }
  return out;
}

}  // namespace airlock
