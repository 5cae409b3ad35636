// Background chores of a running server, on one thread of their own and
// never on a call's path:
//  - publishing each backend's circuit state, so an idle backend whose open
//    period has ended stops reading as open;
//  - giving memory freed after a burst of large calls back to the kernel.
//    gRPC assembles a 5 MiB message from many small slices, which glibc
//    keeps in its arenas after they are freed (measured: 138 MiB resident
//    after a burst, against 23 MiB idle). When the bytes held by calls have
//    fallen well below their recent peak, malloc_trim(0) releases them.
#ifndef CERTBRIDGE_SERVER_APP_HOUSEKEEPING_H_
#define CERTBRIDGE_SERVER_APP_HOUSEKEEPING_H_

#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/resilience/byte_budget.h"

namespace certbridge {

class Housekeeping {
 public:
  /// Runs every task every `period` until destroyed.
  Housekeeping(absl::Duration period, std::vector<std::function<void()>> tasks);
  ~Housekeeping();
  Housekeeping(const Housekeeping&) = delete;
  Housekeeping& operator=(const Housekeeping&) = delete;

 private:
  void Run();

  const absl::Duration period_;
  const std::vector<std::function<void()>> tasks_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

/// malloc_trim(0) when at least 32 MiB held by calls were freed since the
/// last look; true if it trimmed.
bool TrimIfWorthIt(ByteBudget& budget);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_APP_HOUSEKEEPING_H_
