#include "server/app/certbridge_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/app/build_info.h"
#include "server/backends/stub_factory.h"
#include "server/common/backend_types.h"
#include "server/common/log.h"
#include "server/service/request_validation.h"

namespace certbridge {
namespace {

// Linking gRPC's reflection library registers its plugin for every server
// in the process; this option takes it out again when the configuration
// switches reflection off.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const auto& p) {
                                    return p->name() ==
                                           "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

// TLS from files that gRPC re-reads every reload_interval, so rotated
// certificates (cert-manager, a Secret update) take effect without a
// restart. With a client CA, a verified client certificate is required.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
    const ServerTlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  const auto refresh = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(tls.reload_interval)));
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          tls.key_file, tls.cert_file, tls.client_ca_file, refresh);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!tls.client_ca_file.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CertbridgeServer>> CertbridgeServer::Start(
    const ServerConfig& config) {
  std::unique_ptr<CertbridgeServer> self(new CertbridgeServer());
  self->metrics_ =
      std::make_unique<PrometheusMetrics>(kBuildVersion, kBuildRevision);
  if (!config.metrics_address.empty()) {
    auto metrics_server = MetricsServer::Start(config.metrics_address,
                                               self->metrics_->registry());
    if (!metrics_server.ok()) return metrics_server.status();
    self->metrics_server_ = *std::move(metrics_server);
  }
  auto transport = CurlTransport::Create();
  if (!transport.ok()) return transport.status();
  self->transport_ = *std::move(transport);
  self->idempotency_ = std::make_unique<IdempotencyStore>(config.idempotency,
                                                          SystemClock::Get());

  for (const BackendConfig& backend : config.backends) {
    auto connection = MakeBackendConnection(
        backend, *self->transport_, self->idempotency_.get(),
        self->metrics_->ForBackend(backend.name));
    if (!connection.ok()) return connection.status();
    self->registry_.Add(*std::move(connection));
    LogInfo("backend configured",
            {{"backend", backend.name},
             {"kind", std::string(BackendKindName(backend.kind))},
             {"base_url", backend.base_url}});
  }
  const LimitsConfig& limits = config.limits;
  self->bytes_ =
      std::make_unique<ByteBudget>(limits.max_request_bytes_in_flight);
  self->checks_ = std::make_unique<CheckPool>(
      limits.certificate_check_threads, limits.certificate_check_queue);
  ServiceOptions service_options;
  service_options.default_deadline = config.default_deadline;
  service_options.callers = CallerPolicy(config.tls.allowed_callers);
  service_options.checks = self->checks_.get();
  service_options.bytes = self->bytes_.get();
  service_options.pkcs12.max_iterations = limits.pkcs12_max_iterations;
  self->service_ = std::make_unique<CertificateServiceImpl>(
      self->registry_, std::move(service_options), self->metrics_.get());

  // Process-wide registrations that must exist before the builder runs.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!config.reflection) {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  builder.AddListeningPort(config.listen_address, ServerCredentials(config.tls),
                           &self->port_);
  // A 5 MiB certificate plus the other fields must fit; anything larger is
  // refused by gRPC itself with RESOURCE_EXHAUSTED.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(kMaxCertificateFileBytes + std::size_t{1024} * 1024));
  if (config.max_connection_age > absl::ZeroDuration()) {
    // In-flight calls get the shutdown grace period to finish on the old
    // connection before it is closed.
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(config.max_connection_age)));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(
                                   config.shutdown_grace_period)));
  }
  // Fail loudly on a taken port instead of silently sharing it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Limits a well-behaved client sees in SETTINGS; with the byte budget
  // they bound what one connection can make the process hold. (gRPC 1.51
  // has no defence against streams reset as soon as they open -- HTTP/2
  // "rapid reset" -- nor a connection cap: README "Security".)
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             limits.max_concurrent_streams);
  if (limits.max_connection_idle > absl::ZeroDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_IDLE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(limits.max_connection_idle)));
  }
  // A connection that never finishes its handshake holds a slot for 120 s
  // by default.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 10000);
  builder.RegisterService(self->service_.get());
  self->server_ = builder.BuildAndStart();
  if (!self->server_ || self->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen_address));
  }
  std::vector<std::function<void()>> chores;
  for (const BackendConfig& backend : config.backends) {
    BackendConnection* c = self->registry_.Find(backend.name);
    chores.push_back([c] { c->ReportCircuitState(); });
  }
  chores.push_back([bytes = self->bytes_.get()] { TrimIfWorthIt(*bytes); });
  self->housekeeping_ =
      std::make_unique<Housekeeping>(absl::Seconds(1), std::move(chores));
  auto* health = self->server_->GetHealthCheckService();
  health->SetServingStatus(kServiceName, true);
  health->SetServingStatus(true);
  LogInfo("serving", {{"listen_address", config.listen_address},
                      {"port", self->port_},
                      {"metrics_port", self->metrics_port()},
                      {"backends", self->registry_.size()},
                      {"version", kBuildVersion},
                      {"revision", kBuildRevision}});
  return self;
}

void CertbridgeServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || !server_) return;
  shut_down_ = true;
  // NOT_SERVING first, so load balancers and kubelets stop routing here
  // while in-flight calls drain.
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

CertbridgeServer::~CertbridgeServer() {
  Shutdown(absl::ZeroDuration());
  // Stop the server object before the service it calls into goes away.
  server_.reset();
}

}  // namespace certbridge
