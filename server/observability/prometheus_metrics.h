// The metrics of docs/metrics.md in Prometheus form: inbound gRPC
// under go-grpc-middleware's names (every method x code series pre-created
// at 0), outbound per backend instance under certbridge_*, and build info.
// Label values come from small fixed sets only: never ids, URLs or text.
#ifndef CERTBRIDGE_SERVER_OBSERVABILITY_PROMETHEUS_METRICS_H_
#define CERTBRIDGE_SERVER_OBSERVABILITY_PROMETHEUS_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/backends/backend_observer.h"
#include "server/service/rpc_observer.h"

namespace certbridge {

class PrometheusMetrics final : public RpcObserver {
 public:
  PrometheusMetrics(const std::string& version, const std::string& revision);
  ~PrometheusMetrics() override;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  /// The observer for one configured backend (labels bound once; its
  /// series exist from then on).
  std::shared_ptr<BackendObserver> ForBackend(const std::string& backend);

  void OnStarted(absl::string_view method) override;
  void OnHandled(absl::string_view method, grpc::StatusCode code,
                 absl::Duration latency) override;

  /// The gRPC listener's certificate files were looked at after a change:
  /// usable (with the certificate's expiry) or not.
  void OnTlsFiles(bool ok, std::optional<absl::Time> not_after);

  /// Text exposition of everything (tests and debugging).
  std::string Serialize() const;

  /// go-grpc-middleware's code names: "OK", "InvalidArgument", ...
  static const char* CodeName(grpc::StatusCode code);

 private:
  class Backend;
  struct Method {
    prometheus::Counter* started;
    prometheus::Histogram* handling;
    std::map<int, prometheus::Counter*> handled;  // by grpc::StatusCode
  };

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& throttled_;
  prometheus::Family<prometheus::Gauge>& circuit_state_;
  prometheus::Family<prometheus::Gauge>& inflight_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& token_refreshes_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Counter>& deployment_failures_;
  prometheus::Counter& tls_failures_;
  prometheus::Gauge& tls_expiry_;
  std::map<std::string, Method, std::less<>> methods_;
};

/// Serves /metrics on its own port (prometheus-cpp's civetweb Exposer).
class MetricsServer {
 public:
  /// `address` is host:port; port 0 picks a free one. Serves `registry`
  /// and the process_* metrics.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& address,
      std::shared_ptr<prometheus::Registry> registry);
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::shared_ptr<prometheus::Collectable> process_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_OBSERVABILITY_PROMETHEUS_METRICS_H_
