#pragma once
// A fixed ring of job slots processed by worker threads and consumed in
// submission order: the producer fills slot (seq % slots), submits it, and
// later waits for it, so results come back in order however the workers
// interleave. The ring bounds memory: at most `slots` jobs are in flight.
// With zero threads every job runs inline at submit (same results, no threads).
//
// Thread-safety: submit/wait from one thread only (the producer/consumer);
// `work` runs on the workers, each call on a distinct slot, and gets the
// worker's index so it can use per-worker scratch state.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace airlock {

class OrderedPool {
 public:
  using Work = std::function<void(std::size_t slot, std::size_t worker)>;

  OrderedPool(std::size_t threads, std::size_t slots, Work work);
  ~OrderedPool();  // stops the workers after the jobs already queued
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  std::size_t slots() const { return m_done.size(); }
  void submit(std::size_t slot);
  void wait(std::size_t slot);

  // Worker threads to use for `requested` (0 = one per core).
  static std::size_t resolve_threads(std::size_t requested);

 private:
  void run(std::size_t worker);

  Work m_work;
  std::mutex m_mutex;
  std::condition_variable m_work_cv;
  std::condition_variable m_done_cv;
  std::queue<std::size_t> m_pending;
  std::vector<char> m_done;
  bool m_stop = false;
  std::vector<std::thread> m_threads;
};

}  // namespace airlock
