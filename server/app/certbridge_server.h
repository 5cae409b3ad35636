// A running certbridge: HTTP engine, backend connections, the gRPC service
// and its server, metrics and health, built from a ServerConfig. main.cc
// and the integration tests start the same object, so what the tests
// exercise is what ships.
#ifndef CERTBRIDGE_SERVER_APP_CERTBRIDGE_SERVER_H_
#define CERTBRIDGE_SERVER_APP_CERTBRIDGE_SERVER_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/housekeeping.h"
#include "server/app/reflection_v1.h"
#include "server/backends/backend_registry.h"
#include "server/backends/idempotency_store.h"
#include "server/backends/vendor_registry.h"
#include "server/config/server_config.h"
#include "server/http/curl_transport.h"
#include "server/idempotency/idempotency_metrics.h"
#include "server/idempotency/redis_client.h"
#include "server/inventory/inventory_metrics.h"
#include "server/inventory/inventory_poller.h"
#include "server/observability/prometheus_metrics.h"
#include "server/service/certificate_service.h"

namespace certbridge {

class CertbridgeServer {
 public:
  /// The name health reports the service under.
  static constexpr char kServiceName[] = "certbridge.v1.CertificateService";

  /// Builds everything and starts serving on `config.listen_address`
  /// (port 0 picks a free port; see port()). Errors name the problem.
  /// Backends' kinds are looked up in `vendors`, which must outlive the
  /// server.
  static absl::StatusOr<std::unique_ptr<CertbridgeServer>> Start(
      const ServerConfig& config,
      const VendorRegistry& vendors = BuiltinVendors());

  /// Shuts down with a zero grace period if Shutdown() was not called.
  ~CertbridgeServer();

  CertbridgeServer(const CertbridgeServer&) = delete;
  CertbridgeServer& operator=(const CertbridgeServer&) = delete;

  int port() const { return port_; }
  /// 0 when the metrics endpoint is disabled.
  int metrics_port() const {
    return metrics_server_ ? metrics_server_->port() : 0;
  }
  const PrometheusMetrics& metrics() const { return *metrics_; }

  /// Health turns NOT_SERVING at once; calls (on new connections too) are
  /// still served for `drain_delay`, while load balancers and Kubernetes
  /// stop sending here; then new calls are refused and in-flight calls get
  /// `grace` to finish before they are cancelled. Idempotent.
  void Shutdown(absl::Duration drain_delay, absl::Duration grace);
  void Shutdown(absl::Duration grace) { Shutdown(absl::ZeroDuration(), grace); }

  /// 0 without a health listener.
  int health_port() const { return health_port_; }

 private:
  CertbridgeServer() = default;
  void SetServing(bool serving);
  /// The per-process store, or the Redis one (idempotency.store).
  absl::Status StartIdempotencyStore(const IdempotencyConfig& config);

  // Destruction runs bottom-up: the gRPC server stops before the service
  // and the connections it uses, and those before the HTTP engine whose
  // thread completes their calls.
  std::unique_ptr<PrometheusMetrics> metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::unique_ptr<CurlTransport> transport_;
  // The Redis store's metrics outlive its connection, whose last
  // callbacks (run by its destructor) still count; the connection outlives
  // the store, which stops first; the store outlives the connections
  // using it.
  std::unique_ptr<IdempotencyMetrics> idempotency_metrics_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<IdempotencyStore> idempotency_;
  BackendRegistry registry_;
  // Before the connections and the HTTP engine their sweeps use; stopped
  // first by Shutdown().
  std::unique_ptr<InventoryMetrics> inventory_metrics_;
  std::vector<std::unique_ptr<InventoryPoller>> inventories_;
  // Outlive the gRPC server: a call still queued for a check when shutdown
  // cancels it is finished from a pool thread.
  std::unique_ptr<ByteBudget> bytes_;
  std::unique_ptr<CheckPool> checks_;
  std::unique_ptr<CertificateServiceImpl> service_;
  std::unique_ptr<ReflectionV1> reflection_v1_;
  std::unique_ptr<grpc::Server> server_;
  grpc::CallbackGenericService unimplemented_;
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
  // Last: stopped first, as it looks at the connections and the budget.
  std::unique_ptr<Housekeeping> housekeeping_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_APP_CERTBRIDGE_SERVER_H_
