#include "core/base/pipeline.h"

namespace airlock {

Pipeline::Pipeline(std::size_t workers, std::size_t slots, Work work, Consume consume)
    : m_pool(workers, slots, std::move(work)), m_consume(std::move(consume)) {
  m_consumer = std::thread([this] { consume_loop(); });
}

Pipeline::~Pipeline() { (void)finish(); }

Result<std::size_t> Pipeline::acquire() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_cv.wait(lock, [&] { return m_error.has_value() || m_head - m_consumed < m_pool.slots(); });
  if (m_error) {
    return std::unexpected(*m_error);
  }
  return static_cast<std::size_t>(m_head % m_pool.slots());
}

void Pipeline::submit(std::size_t slot) {
  m_pool.submit(slot);
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++m_head;
  }
  m_cv.notify_all();
}

Status Pipeline::drain() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_cv.wait(lock, [&] { return m_consumed == m_head; });
  if (m_error) {
    return std::unexpected(*m_error);
  }
  return ok_status();
}

Status Pipeline::finish() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_closed = true;
  }
  m_cv.notify_all();
  if (m_consumer.joinable()) {
    m_consumer.join();
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  if (m_error) {
    return std::unexpected(*m_error);
  }
  return ok_status();
}

void Pipeline::consume_loop() {
  for (;;) {
    std::uint64_t seq = 0;
    bool failed = false;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_cv.wait(lock, [&] { return m_consumed < m_head || m_closed; });
      if (m_consumed == m_head) {
        return;  // closed and drained
      }
      seq = m_consumed;
      failed = m_error.has_value();
    }
    std::size_t slot = static_cast<std::size_t>(seq % m_pool.slots());
    m_pool.wait(slot);
    // After a failure the remaining slots are drained, not consumed.
    Status st = failed ? ok_status() : m_consume(slot);
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (!st && !m_error) {
        m_error = st.error();
      }
      ++m_consumed;
    }
    m_cv.notify_all();
  }
}

}  // namespace airlock
