// The shared idempotency store's metrics (docs/metrics.md):
//   certbridge_idempotency_store_requests_total{operation,result}
//   certbridge_idempotency_store_request_duration_seconds{operation}
//   certbridge_idempotency_store_connected (1 while Redis is reachable)
// Operations and results are small fixed sets; keys and ids never appear.
#ifndef CERTBRIDGE_SERVER_IDEMPOTENCY_IDEMPOTENCY_METRICS_H_
#define CERTBRIDGE_SERVER_IDEMPOTENCY_IDEMPOTENCY_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <utility>

#include "server/idempotency/redis_idempotency_store.h"

namespace certbridge {

class IdempotencyMetrics final : public IdempotencyStoreObserver {
 public:
  /// Registers the families in `registry`, which must outlive this object,
  /// with every operation/result series present at 0.
  explicit IdempotencyMetrics(prometheus::Registry& registry);

  void OnRequest(absl::string_view operation, absl::string_view result,
                 absl::Duration latency) override;
  /// Housekeeping publishes the client's connection state.
  void SetConnected(bool connected);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Gauge& connected_;
  // Bound once: the hot path only looks them up.
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> counters_;
  std::map<std::string, prometheus::Histogram*> histograms_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_IDEMPOTENCY_IDEMPOTENCY_METRICS_H_
