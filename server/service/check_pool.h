// A small, bounded pool of threads for CPU-bound request checks (opening
// uploaded PKCS#12 and PEM files). gRPC runs callback reactions on a couple
// of library threads and the HTTP engine on one: a check that takes 50 ms
// on either would stall every other call. A full queue refuses new work at
// once rather than letting it pile up.
#ifndef CERTBRIDGE_SERVER_SERVICE_CHECK_POOL_H_
#define CERTBRIDGE_SERVER_SERVICE_CHECK_POOL_H_

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace certbridge {

class CheckPool {
 public:
  /// `threads` workers; at most `queue` tasks wait for one.
  CheckPool(int threads, int queue);
  /// Runs what is queued, then joins the workers.
  ~CheckPool();
  CheckPool(const CheckPool&) = delete;
  CheckPool& operator=(const CheckPool&) = delete;

  /// Queues `task` (it runs on a worker); false, without running it, when
  /// the queue is full.
  bool TrySubmit(absl::AnyInvocable<void() &&> task);

  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  void Work();

  const std::size_t max_queued_;
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_CHECK_POOL_H_
