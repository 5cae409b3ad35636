#include "server/observability/prometheus_metrics.h"

#include <prometheus/text_serializer.h>

#include <iterator>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/grpc_codes.h"
#include "server/observability/process_metrics.h"

namespace certbridge {
namespace {

constexpr char kService[] = "certbridge.v1.CertificateService";
constexpr const char* kMethods[] = {"CreateCertificate", "GetCertificate",
                                    "UpdateCertificate", "DeleteCertificate",
                                    "ListCertificates"};
constexpr Operation kOperations[] = {Operation::kCreate, Operation::kGet,
                                     Operation::kUpdate, Operation::kDelete,
                                     Operation::kList};

// metrics.md: 0.005 ... 10 s plus 20 and 30 s for calls with retries.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30};
  return buckets;
}

constexpr grpc::StatusCode kCodes[] = {grpc::StatusCode::OK,
                                       grpc::StatusCode::CANCELLED,
                                       grpc::StatusCode::UNKNOWN,
                                       grpc::StatusCode::INVALID_ARGUMENT,
                                       grpc::StatusCode::DEADLINE_EXCEEDED,
                                       grpc::StatusCode::NOT_FOUND,
                                       grpc::StatusCode::ALREADY_EXISTS,
                                       grpc::StatusCode::PERMISSION_DENIED,
                                       grpc::StatusCode::RESOURCE_EXHAUSTED,
                                       grpc::StatusCode::FAILED_PRECONDITION,
                                       grpc::StatusCode::ABORTED,
                                       grpc::StatusCode::OUT_OF_RANGE,
                                       grpc::StatusCode::UNIMPLEMENTED,
                                       grpc::StatusCode::INTERNAL,
                                       grpc::StatusCode::UNAVAILABLE,
                                       grpc::StatusCode::DATA_LOSS,
                                       grpc::StatusCode::UNAUTHENTICATED};

}  // namespace

const char* PrometheusMetrics::CodeName(grpc::StatusCode code) {
  return GrpcCodeName(static_cast<int>(code));
}

// One backend's series, with labels bound once; HTTP status labels are
// created on first use (a small set: the statuses the vendor sends).
class PrometheusMetrics::Backend final : public BackendObserver {
 public:
  Backend(PrometheusMetrics& m, const std::string& name) : m_(m), name_(name) {
    for (Operation op : kOperations) {
      const std::string o(OperationName(op));
      duration_[static_cast<int>(op)] = &m.request_duration_.Add(
          {{"backend", name}, {"operation", o}}, LatencyBuckets());
    }
    throttled_ = &m.throttled_.Add({{"backend", name}});
    circuit_ = &m.circuit_state_.Add({{"backend", name}});
    inflight_ = &m.inflight_.Add({{"backend", name}});
    for (const char* r : {"circuit_open", "overloaded"}) {
      m.rejected_.Add({{"backend", name}, {"reason", r}});
    }
    for (const char* r : {"success", "failure"}) {
      m.token_refreshes_.Add({{"backend", name}, {"result", r}});
    }
    for (Operation op : kOperations) {
      if (op == Operation::kList) continue;
      deployment_failed_[static_cast<int>(op)] = &m.deployment_failures_.Add(
          {{"backend", name}, {"operation", std::string(OperationName(op))}});
    }
  }

  void OnHttpExchange(Operation op, int http_status, absl::string_view error,
                      absl::Duration latency) override {
    RequestCounter(op, http_status, error).Increment();
    duration_[static_cast<int>(op)]->Observe(absl::ToDoubleSeconds(latency));
  }
  void OnRetry(const RetryEvent& event) override {
    m_.retries_
        .Add({{"backend", name_},
              {"operation", std::string(OperationName(event.operation))},
              {"reason", std::string(event.reason)}})
        .Increment();
  }
  void OnRetryThrottled() override { throttled_->Increment(); }
  void OnRejected(absl::string_view reason) override {
    m_.rejected_.Add({{"backend", name_}, {"reason", std::string(reason)}})
        .Increment();
  }
  void OnCircuitState(int state) override { circuit_->Set(state); }
  void OnInflight(int delta) override { inflight_->Increment(delta); }
  void OnDeploymentFailed(Operation op) override {
    if (prometheus::Counter* c = deployment_failed_[static_cast<int>(op)]) {
      c->Increment();
    }
  }
  void OnTokenRefresh(const absl::Status& result) override {
    m_.token_refreshes_
        .Add({{"backend", name_},
              {"result", result.ok() ? "success" : "failure"}})
        .Increment();
  }

 private:
  // Family::Add builds a label map and takes the family's lock on every
  // call; an exchange finds its counter here instead (a few statuses and
  // errors per backend, bound on first use).
  prometheus::Counter& RequestCounter(Operation op, int http_status,
                                      absl::string_view error) {
    RequestKey key{static_cast<int>(op), http_status, std::string(error)};
    {
      absl::ReaderMutexLock lock(&requests_mu_);
      auto it = requests_.find(key);
      if (it != requests_.end()) return *it->second;
    }
    prometheus::Counter& counter = m_.requests_.Add(
        {{"backend", name_},
         {"operation", std::string(OperationName(op))},
         {"code",
          http_status == 0 ? std::string("none") : absl::StrCat(http_status)},
         {"error", key.error}});
    absl::MutexLock lock(&requests_mu_);
    requests_.emplace(std::move(key), &counter);
    return counter;
  }

  struct RequestKey {
    int operation;
    int http_status;
    std::string error;
    bool operator==(const RequestKey& o) const {
      return operation == o.operation && http_status == o.http_status &&
             error == o.error;
    }
    template <typename H>
    friend H AbslHashValue(H h, const RequestKey& k) {
      return H::combine(std::move(h), k.operation, k.http_status, k.error);
    }
  };

  PrometheusMetrics& m_;
  const std::string name_;
  absl::Mutex requests_mu_;
  absl::flat_hash_map<RequestKey, prometheus::Counter*> requests_
      ABSL_GUARDED_BY(requests_mu_);
  prometheus::Histogram* duration_[std::size(kOperations)] = {};
  // Only writes deploy; a list never reports one (null).
  prometheus::Counter* deployment_failed_[std::size(kOperations)] = {};
  prometheus::Counter* throttled_;
  prometheus::Gauge* circuit_;
  prometheus::Gauge* inflight_;
};

PrometheusMetrics::PrometheusMetrics(const std::string& version,
                                     const std::string& revision)
    : registry_(std::make_shared<prometheus::Registry>()),
      started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(*registry_)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, "
                         "regardless of success or failure.")
                   .Register(*registry_)),
      handling_(prometheus::BuildHistogram()
                    .Name("grpc_server_handling_seconds")
                    .Help("Histogram of response latency (seconds) of gRPC "
                          "that had been application-level handled by the "
                          "server.")
                    .Register(*registry_)),
      requests_(prometheus::BuildCounter()
                    .Name("certbridge_backend_requests_total")
                    .Help("HTTP requests to backends, one per attempt.")
                    .Register(*registry_)),
      request_duration_(prometheus::BuildHistogram()
                            .Name("certbridge_backend_request_duration_seconds")
                            .Help("Duration of one HTTP attempt to a backend.")
                            .Register(*registry_)),
      retries_(prometheus::BuildCounter()
                   .Name("certbridge_backend_retries_total")
                   .Help("Retries scheduled, by the failure that caused them.")
                   .Register(*registry_)),
      throttled_(prometheus::BuildCounter()
                     .Name("certbridge_backend_retry_throttled_total")
                     .Help("Retries refused by the retry budget.")
                     .Register(*registry_)),
      circuit_state_(
          prometheus::BuildGauge()
              .Name("certbridge_backend_circuit_state")
              .Help("Circuit breaker: 0 closed, 1 half-open, 2 open.")
              .Register(*registry_)),
      inflight_(prometheus::BuildGauge()
                    .Name("certbridge_backend_inflight")
                    .Help("Calls in flight to the backend (retries included).")
                    .Register(*registry_)),
      rejected_(prometheus::BuildCounter()
                    .Name("certbridge_backend_rejected_total")
                    .Help("Calls failed fast: circuit_open or overloaded.")
                    .Register(*registry_)),
      token_refreshes_(prometheus::BuildCounter()
                           .Name("certbridge_backend_token_refreshes_total")
                           .Help("Tokens fetched from a backend's token "
                                 "endpoint, by result.")
                           .Register(*registry_)),
      build_info_(prometheus::BuildGauge()
                      .Name("certbridge_build_info")
                      .Help("Always 1; labels carry the build.")
                      .Register(*registry_)),
      deployment_failures_(
          prometheus::BuildCounter()
              .Name("certbridge_backend_deployment_failures_total")
              .Help("Writes answered OK whose deployment to some gateway "
                    "environment failed (PARTIALLY_FAILED or FAILED).")
              .Register(*registry_)),
      tls_failures_(prometheus::BuildCounter()
                        .Name("certbridge_tls_reload_failures_total")
                        .Help("Changes to the gRPC listener's certificate "
                              "files that left them unusable.")
                        .Register(*registry_)
                        .Add({})),
      tls_expiry_(prometheus::BuildGauge()
                      .Name("certbridge_tls_certificate_expiry_timestamp_"
                            "seconds")
                      .Help("When the gRPC listener's certificate expires "
                            "(unix seconds; 0 without TLS).")
                      .Register(*registry_)
                      .Add({})) {
  build_info_.Add({{"version", version}, {"revision", revision}}).Set(1);
  for (const char* method : kMethods) {
    const std::map<std::string, std::string> labels = {
        {"grpc_type", "unary"},
        {"grpc_service", kService},
        {"grpc_method", method}};
    Method& m = methods_[method];
    m.started = &started_.Add(labels);
    m.handling = &handling_.Add(labels, LatencyBuckets());
    for (grpc::StatusCode code : kCodes) {
      auto with_code = labels;
      with_code["grpc_code"] = CodeName(code);
      m.handled[static_cast<int>(code)] = &handled_.Add(with_code);
    }
  }
}

PrometheusMetrics::~PrometheusMetrics() = default;

std::shared_ptr<BackendObserver> PrometheusMetrics::ForBackend(
    const std::string& backend) {
  return std::make_shared<Backend>(*this, backend);
}

void PrometheusMetrics::OnStarted(absl::string_view method) {
  auto it = methods_.find(method);
  if (it != methods_.end()) it->second.started->Increment();
}

void PrometheusMetrics::OnHandled(absl::string_view method,
                                  grpc::StatusCode code,
                                  absl::Duration latency) {
  auto it = methods_.find(method);
  if (it == methods_.end()) return;
  auto c = it->second.handled.find(static_cast<int>(code));
  if (c != it->second.handled.end()) c->second->Increment();
  it->second.handling->Observe(absl::ToDoubleSeconds(latency));
}

void PrometheusMetrics::OnTlsFiles(bool ok,
                                   std::optional<absl::Time> not_after) {
  if (!ok) tls_failures_.Increment();
  if (not_after)
    tls_expiry_.Set(absl::ToDoubleSeconds(*not_after - absl::UnixEpoch()));
}

std::string PrometheusMetrics::Serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address,
    std::shared_ptr<prometheus::Registry> registry) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  try {
    // Few threads: a scrape every few seconds needs no pool.
    server->exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  server->exposer_->RegisterCollectable(registry);
  server->process_ = std::make_shared<ProcessMetrics>();
  server->exposer_->RegisterCollectable(server->process_);
  const auto ports = server->exposer_->GetListeningPorts();
  server->port_ = ports.empty() ? 0 : ports[0];
  return server;
}

}  // namespace certbridge
