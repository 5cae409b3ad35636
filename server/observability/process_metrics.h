// The standard process_* metrics (as the Go and Java Prometheus clients
// export them), which prometheus-cpp does not provide: CPU seconds,
// resident and virtual memory, open and maximum file descriptors, start
// time, threads. Read from /proc/self at scrape time.
#ifndef CERTBRIDGE_SERVER_OBSERVABILITY_PROCESS_METRICS_H_
#define CERTBRIDGE_SERVER_OBSERVABILITY_PROCESS_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace certbridge {

class ProcessMetrics final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_OBSERVABILITY_PROCESS_METRICS_H_
