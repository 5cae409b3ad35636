// The inventory of one backend: a thread that lists the backend's whole
// collection every interval (jittered) and publishes each certificate's
// expiry as a metric, so alerts can fire before a certificate expires
// without anyone calling ListCertificates.
//
// A sweep goes through the backend's full connection -- retries, breaker,
// concurrency limit and the backend metrics under operation "list" --
// exactly as a caller's ListCertificates does, with a CallContext of its
// own. Sweeps never overlap: the next is scheduled from the end of the
// last. Stopping cancels the sweep in flight through its CallContext.
#ifndef CERTBRIDGE_SERVER_INVENTORY_INVENTORY_POLLER_H_
#define CERTBRIDGE_SERVER_INVENTORY_INVENTORY_POLLER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/backends/backend_connection.h"
#include "server/backends/vendor.h"
#include "server/config/server_config.h"
#include "server/inventory/inventory_metrics.h"
#include "server/resilience/call_policies.h"
#include "server/resilience/clock.h"

namespace certbridge {

/// Whether `config` suits the backend's vendor: projects exactly when its
/// names carry one (an Apinizer inventory without projects would sweep
/// nothing). INVALID_ARGUMENT naming `path` + ".inventory.projects".
absl::Status CheckInventoryConfig(const InventoryConfig& config,
                                  const Vendor& vendor, absl::string_view path);

/// `interval` moved by up to +-`jitter` of itself, uniformly.
absl::Duration JitteredInterval(absl::Duration interval, double jitter,
                                absl::BitGenRef gen);

/// The reason label of a failed sweep: the status's ErrorInfo reason (or
/// the code's default one), "OTHER" if it is not an upper-case token.
std::string InventoryErrorReason(const absl::Status& status);

struct InventoryPollerOptions {
  /// Timestamps and the sweep's deadline.
  const Clock* clock = &SystemClock::Get();
  RandomSource random = SystemRandom();
  /// The first sweep starts after uniform(0, first_delay): soon, but not
  /// at the same instant on every replica started together.
  absl::Duration first_delay = absl::Seconds(1);
  /// Fraction of the interval the wait between sweeps is moved by.
  double jitter = 0.1;
  /// Longest one list call of a sweep may take (when the interval is
  /// shorter, the interval).
  absl::Duration max_call_time = absl::Seconds(60);
  /// After a stop cancels a list, how long to wait for it to end before
  /// giving up on it (its state stays alive until it does).
  absl::Duration cancel_grace = absl::Seconds(5);
};

class InventoryPoller {
 public:
  /// `connection` must outlive the poller (stopping waits for the sweep
  /// in flight, within cancel_grace).
  InventoryPoller(BackendConnection& connection, InventoryConfig config,
                  std::unique_ptr<BackendInventoryMetrics> metrics,
                  InventoryPollerOptions options = {});
  ~InventoryPoller();
  InventoryPoller(const InventoryPoller&) = delete;
  InventoryPoller& operator=(const InventoryPoller&) = delete;

  /// Starts the background sweeps (once).
  void Start();
  /// Cancels the sweep in flight and waits for the thread to end; no sweep
  /// starts afterwards. Idempotent.
  void Stop();

  /// One sweep, now, on the calling thread. FAILED_PRECONDITION without
  /// calling the backend when another sweep is in flight; CANCELLED after
  /// Stop(). A failure is counted (not when caused by Stop()).
  absl::Status SweepOnce();

 private:
  struct PendingList;

  void Run();
  absl::Status Sweep();
  /// The list, and the secrets its call carried (the tokens sent), which
  /// must not become label values.
  absl::StatusOr<CertificateList> ListParent(ParentName parent,
                                             std::vector<std::string>* secrets);

  BackendConnection& connection_;
  const InventoryConfig config_;
  const std::unique_ptr<BackendInventoryMetrics> metrics_;
  const InventoryPollerOptions options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<PendingList> pending_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_INVENTORY_INVENTORY_POLLER_H_
