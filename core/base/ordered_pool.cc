#include "core/base/ordered_pool.h"

namespace airlock {

std::size_t OrderedPool::resolve_threads(std::size_t requested) {
  if (requested != 0) {
    return requested;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

OrderedPool::OrderedPool(std::size_t threads, std::size_t slots, Work work)
    : m_work(std::move(work)), m_done(slots, 1) {
  for (std::size_t i = 0; i < threads; ++i) {
    m_threads.emplace_back([this, i] { run(i); });
  }
}

OrderedPool::~OrderedPool() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
  }
  m_work_cv.notify_all();
  for (std::thread& t : m_threads) {
    t.join();
  }
}

void OrderedPool::submit(std::size_t slot) {
  if (m_threads.empty()) {
    m_work(slot, 0);
    m_done[slot] = 1;
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_done[slot] = 0;
    m_pending.push(slot);
  }
  m_work_cv.notify_one();
}

void OrderedPool::wait(std::size_t slot) {
  if (m_threads.empty()) {
    return;
  }
  std::unique_lock<std::mutex> lock(m_mutex);
  m_done_cv.wait(lock, [&] { return m_done[slot] != 0; });
}

void OrderedPool::run(std::size_t worker) {
  for (;;) {
    std::size_t slot = 0;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_work_cv.wait(lock, [&] { return m_stop || !m_pending.empty(); });
      if (m_pending.empty()) {
        return;  // stopping, and nothing left to do
      }
      slot = m_pending.front();
      m_pending.pop();
    }
    m_work(slot, worker);
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_done[slot] = 1;
    }
    m_done_cv.notify_all();
  }
}

}  // namespace airlock
