#include "server/idempotency/idempotency_metrics.h"

namespace certbridge {
namespace {

constexpr const char* kOperations[] = {"begin", "poll", "renew", "finish"};
constexpr const char* kResults[] = {"ok", "unavailable", "error"};

}  // namespace

IdempotencyMetrics::IdempotencyMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("certbridge_idempotency_store_requests_total")
                    .Help("Round trips to the shared idempotency store "
                          "(Redis), by operation and result")
                    .Register(registry)),
      duration_(
          prometheus::BuildHistogram()
              .Name("certbridge_idempotency_store_request_duration_seconds")
              .Help("Latency of round trips to the shared idempotency store")
              .Register(registry)),
      connected_(prometheus::BuildGauge()
                     .Name("certbridge_idempotency_store_connected")
                     .Help("1 while the connection to the shared idempotency "
                           "store (Redis) is up")
                     .Register(registry)
                     .Add({})) {
  // Redis round trips take well under a millisecond when healthy; the
  // upper buckets show a slow or failing store against its timeouts.
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  for (const char* op : kOperations) {
    histograms_[op] = &duration_.Add({{"operation", op}}, buckets);
    for (const char* result : kResults) {
      counters_[{op, result}] =
          &requests_.Add({{"operation", op}, {"result", result}});
    }
  }
}

void IdempotencyMetrics::OnRequest(absl::string_view operation,
                                   absl::string_view result,
                                   absl::Duration latency) {
  auto counter = counters_.find({std::string(operation), std::string(result)});
  if (counter != counters_.end()) counter->second->Increment();
  auto histogram = histograms_.find(std::string(operation));
  if (histogram != histograms_.end()) {
    histogram->second->Observe(absl::ToDoubleSeconds(latency));
  }
}

void IdempotencyMetrics::SetConnected(bool connected) {
  connected_.Set(connected ? 1 : 0);
}

}  // namespace certbridge
