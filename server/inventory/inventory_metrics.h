// The inventory's Prometheus series (docs/metrics.md "Inventory"): one
// expiry gauge per certificate and environment, replaced wholesale by each
// successful sweep, and per-backend figures about the sweeps themselves.
// Unlike every other certbridge metric, these labels carry vendor text
// (certificate ids and names, projects, environments), so each value is
// bounded and cleaned before it becomes a label, and the number of expiry
// series per backend is capped.
#ifndef CERTBRIDGE_SERVER_INVENTORY_INVENTORY_METRICS_H_
#define CERTBRIDGE_SERVER_INVENTORY_INVENTORY_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace certbridge {

/// Longest label value taken from vendor text, in bytes.
inline constexpr std::size_t kMaxInventoryLabelBytes = 128;

/// `text` as a label value: at most kMaxInventoryLabelBytes bytes (cut on
/// a character boundary, marked with "..."), control bytes and bytes that
/// are not UTF-8 replaced by '?'.
std::string InventoryLabel(absl::string_view text);

/// One expiry as a sweep found it (raw vendor text; labels are made from
/// it when published).
struct ExpirySeries {
  std::string project;
  std::string certificate;
  std::string environment;
  absl::Time expire_time;
};

class InventoryMetrics;

/// One backend's inventory series. Not for concurrent sweeps (the poller
/// runs one at a time); the families it writes to are thread-safe.
class BackendInventoryMetrics {
 public:
  ~BackendInventoryMetrics();
  BackendInventoryMetrics(const BackendInventoryMetrics&) = delete;
  BackendInventoryMetrics& operator=(const BackendInventoryMetrics&) = delete;

  /// A successful sweep listed `certificates` certificates with these
  /// expiries: the published expiry series become exactly these (those no
  /// longer listed are removed), at most `max_series` of them -- the ones
  /// expiring first, as those are what alerts look for.
  void OnSweepSucceeded(const std::vector<ExpirySeries>& series,
                        std::size_t certificates, std::size_t max_series,
                        absl::Time now);
  /// The configured sweep interval, exported so that the stale-inventory
  /// alert can say "three intervals" whatever the configuration.
  void SetInterval(absl::Duration interval);
  /// A failed sweep: the series stay as the last success left them (they
  /// still say when those certificates expire); `reason` (an ErrorInfo
  /// reason) is counted.
  void OnSweepFailed(absl::string_view reason);

 private:
  friend class InventoryMetrics;
  BackendInventoryMetrics(InventoryMetrics& metrics, std::string backend);

  using Key = std::tuple<std::string, std::string, std::string>;
  InventoryMetrics& m_;
  const std::string backend_;
  prometheus::Gauge& certificates_;
  prometheus::Gauge& last_success_;
  prometheus::Gauge& dropped_;
  prometheus::Gauge& interval_;
  absl::Mutex mu_;
  // (project, certificate, environment) labels -> the published gauge.
  std::map<Key, prometheus::Gauge*> expiry_ ABSL_GUARDED_BY(mu_);
};

class InventoryMetrics {
 public:
  /// Registers the families in `registry`, which must outlive this.
  explicit InventoryMetrics(prometheus::Registry& registry);
  InventoryMetrics(const InventoryMetrics&) = delete;
  InventoryMetrics& operator=(const InventoryMetrics&) = delete;

  /// The series of one backend (created at 0 now); must not outlive this.
  std::unique_ptr<BackendInventoryMetrics> ForBackend(
      const std::string& backend);

 private:
  friend class BackendInventoryMetrics;
  prometheus::Family<prometheus::Gauge>& expiration_;
  prometheus::Family<prometheus::Gauge>& certificates_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Gauge>& dropped_;
  prometheus::Family<prometheus::Gauge>& interval_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_INVENTORY_INVENTORY_METRICS_H_
