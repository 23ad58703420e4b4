#pragma once
// A three-stage ordered pipeline over a fixed ring of slots:
//   producer (the caller's thread) fills a slot and submits it;
//   workers (an OrderedPool) transform slots in parallel;
//   one consumer thread takes the slots back in submission order.
// Keeping the order-dependent work (reading, writing, numbering) on two
// separate threads lets them overlap with each other and with the workers,
// so no single thread serialises the whole job. The ring bounds memory.
//
// Errors: the first failing consume() stops further consumption; acquire()
// and finish() then return that error. The destructor drains and joins.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "core/base/error.h"
#include "core/base/ordered_pool.h"

namespace airlock {

class Pipeline {
 public:
  using Work = OrderedPool::Work;
  using Consume = std::function<Status(std::size_t slot)>;

  // `workers` == 0: the work runs inline in submit().
  Pipeline(std::size_t workers, std::size_t slots, Work work, Consume consume);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  std::size_t slots() const { return m_pool.slots(); }
  // A free slot for the producer to fill (blocks while the ring is full).
  Result<std::size_t> acquire();
  void submit(std::size_t slot);
  // Waits until everything submitted so far was consumed, and the pipeline
  // stays open for more; the first error, if any.
  Status drain();
  // Waits until everything submitted was consumed; the first error, if any.
  Status finish();

 private:
  void consume_loop();

  OrderedPool m_pool;
  Consume m_consume;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::uint64_t m_head = 0;      // slots submitted
  std::uint64_t m_consumed = 0;  // slots taken back by the consumer
  bool m_closed = false;
  std::optional<Error> m_error;
  std::thread m_consumer;
};

}  // namespace airlock
