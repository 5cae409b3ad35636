#include "server/app/certbridge_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/generic/async_generic_service.h>
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
#include "server/app/listen_check.h"
#include "server/app/reflection_v1.h"
#include "server/app/tls_files.h"
#include "server/backends/memory_idempotency_store.h"
#include "server/backends/stub_factory.h"
#include "server/common/log.h"
#include "server/idempotency/idempotency_metrics.h"
#include "server/idempotency/redis_client.h"
#include "server/idempotency/redis_idempotency_store.h"
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

absl::Status CertbridgeServer::StartIdempotencyStore(
    const IdempotencyConfig& config) {
  if (config.store != "redis") {
    idempotency_ =
        std::make_unique<MemoryIdempotencyStore>(config, SystemClock::Get());
    return absl::OkStatus();
  }
  const RedisStoreConfig& r = config.redis;
  RedisOptions options;
  options.host = r.host;
  options.port = r.port;
  auto password = ReadRedisPassword(r);
  if (!password.ok()) return password.status();
  options.password = *std::move(password);
  if (!r.username.empty()) options.username = r.username;
  options.database = r.database;
  options.tls = r.tls;
  options.tls_ca_file = r.tls_ca_file;
  options.tls_server_name = r.tls_server_name;
  options.connect_timeout = r.connect_timeout;
  options.command_timeout = r.command_timeout;
  auto client = RedisClient::Create(std::move(options));
  if (!client.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency.redis: ", client.status().message()));
  }
  redis_ = *std::move(client);
  idempotency_metrics_ =
      std::make_unique<IdempotencyMetrics>(*metrics_->registry());
  RedisIdempotencyOptions store;
  store.key_prefix = r.key_prefix;
  store.ttl = config.ttl;
  store.lease = r.lease;
  store.fallback_to_local = r.fallback_to_local;
  idempotency_ = std::make_unique<RedisIdempotencyStore>(
      *redis_, *transport_, store,
      std::make_unique<MemoryIdempotencyStore>(config, SystemClock::Get()),
      idempotency_metrics_.get());
  // Not a start-up condition: Redis may come up after certbridge, and only
  // Creates with a request_id need it.
  LogInfo("idempotency store: redis",
          {{"address", r.address},
           {"tls", r.tls},
           {"database", r.database},
           {"on_unavailable", r.fallback_to_local ? "local" : "fail"}});
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CertbridgeServer>> CertbridgeServer::Start(
    const ServerConfig& config, const VendorRegistry& vendors) {
  // Every backend's kind and options first: a typo stops start-up before
  // anything listens.
  std::vector<std::pair<const BackendConfig*, const Vendor*>> backends;
  for (size_t i = 0; i < config.backends.size(); ++i) {
    const BackendConfig& backend = config.backends[i];
    auto vendor =
        ResolveVendor(vendors, backend, absl::StrCat("backends[", i, "]"));
    if (!vendor.ok()) return vendor.status();
    if (auto s = CheckInventoryConfig(backend.inventory, **vendor,
                                      absl::StrCat("backends[", i, "]"));
        !s.ok()) {
      return s;
    }
    backends.emplace_back(&backend, *vendor);
  }
  if (auto s = CheckConfiguredFiles(config); !s.ok()) return s;
  auto page_token_key = ReadPageTokenKey(config);
  if (!page_token_key.ok()) return page_token_key.status();
  if (config.tls.enabled()) {
    // A pair that cannot serve (key not matching, expired, not PEM) would
    // start SERVING and fail every handshake.
    auto expiry = CheckServerCertificateFiles(config.tls.cert_file,
                                              config.tls.key_file, absl::Now());
    if (!expiry.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tls.cert_file/tls.key_file: ", expiry.status().message()));
    }
  }
  std::unique_ptr<CertbridgeServer> self(new CertbridgeServer());
  self->metrics_ =
      std::make_unique<PrometheusMetrics>(kBuildVersion, kBuildRevision);
  if (!config.metrics_address.empty()) {
    auto metrics_server = MetricsServer::Start(config.metrics_address,
                                               self->metrics_->registry());
    if (!metrics_server.ok()) {
      const std::string why = WhyCannotListen(config.metrics_address);
      return absl::UnavailableError(absl::StrCat(
          "metrics_address ", config.metrics_address, ": cannot listen",
          why.empty() ? "" : absl::StrCat(" (", why, ")")));
    }
    self->metrics_server_ = *std::move(metrics_server);
  }
  auto transport = CurlTransport::Create();
  if (!transport.ok()) return transport.status();
  self->transport_ = *std::move(transport);
  if (auto s = self->StartIdempotencyStore(config.idempotency); !s.ok()) {
    return s;
  }

  for (const auto& [backend, vendor] : backends) {
    auto connection = MakeBackendConnection(
        *backend, *vendor, *self->transport_, self->idempotency_.get(),
        self->metrics_->ForBackend(backend->name));
    if (!connection.ok()) return connection.status();
    self->registry_.Add(*std::move(connection));
    LogInfo("backend configured", {{"backend", backend->name},
                                   {"kind", backend->kind},
                                   {"base_url", backend->base_url}});
  }
  const LimitsConfig& limits = config.limits;
  self->bytes_ =
      std::make_unique<ByteBudget>(limits.max_request_bytes_in_flight);
  self->checks_ = std::make_unique<CheckPool>(limits.certificate_check_threads,
                                              limits.certificate_check_queue);
  ServiceOptions service_options;
  service_options.default_deadline = config.default_deadline;
  service_options.callers = CallerPolicy(config.tls.allowed_callers);
  service_options.checks = self->checks_.get();
  service_options.bytes = self->bytes_.get();
  service_options.pkcs12.max_iterations = limits.pkcs12_max_iterations;
  service_options.page_token_key = *std::move(page_token_key);
  self->service_ = std::make_unique<CertificateServiceImpl>(
      self->registry_, std::move(service_options), self->metrics_.get());

  // Process-wide registrations that must exist before the builder runs.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!config.reflection) {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      ServerCredentials(config.tls);
  if (config.tls.enabled() && !config.tls.allowed_callers.empty()) {
    credentials->SetAuthMetadataProcessor(
        std::make_shared<CallerPolicyProcessor>(
            CallerPolicy(config.tls.allowed_callers)));
  }
  builder.AddListeningPort(config.listen_address, credentials, &self->port_);
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
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(
                                   limits.max_connection_idle)));
  }
  // A connection that never finishes its handshake holds a slot for 120 s
  // by default.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 10000);
  builder.RegisterService(self->service_.get());
  if (config.reflection) {
    self->reflection_v1_ = std::make_unique<ReflectionV1>(
        std::vector<std::string>{kServiceName, "grpc.health.v1.Health",
                                 "grpc.reflection.v1.ServerReflection",
                                 "grpc.reflection.v1alpha.ServerReflection"});
    builder.RegisterService(self->reflection_v1_.get());
  }
  // Said before gRPC tries, since it only logs that binding failed.
  if (const std::string why = WhyCannotListen(config.listen_address);
      !why.empty()) {
    return absl::UnavailableError(absl::StrCat("listen_address ",
                                               config.listen_address,
                                               ": cannot listen (", why, ")"));
  }
  self->server_ = builder.BuildAndStart();
  if (!self->server_ || self->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "listen_address ", config.listen_address, ": cannot listen"));
  }
  if (!config.health_listen_address.empty()) {
    // Health only, plaintext: kubelet's gRPC probe cannot speak TLS.
    grpc::ServerBuilder health;
    health.SetOption(std::make_unique<WithoutReflection>());
    health.AddListeningPort(config.health_listen_address,
                            grpc::InsecureServerCredentials(),
                            &self->health_port_);
    health.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    // gRPC will not start a server without a service of its own; this one
    // answers UNIMPLEMENTED to anything but health.
    health.RegisterCallbackGenericService(&self->unimplemented_);
    if (const std::string why = WhyCannotListen(config.health_listen_address);
        !why.empty()) {
      return absl::UnavailableError(
          absl::StrCat("health_listen_address ", config.health_listen_address,
                       ": cannot listen (", why, ")"));
    }
    self->health_server_ = health.BuildAndStart();
    if (!self->health_server_ || self->health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat("health_listen_address ",
                                                 config.health_listen_address,
                                                 ": cannot listen"));
    }
  }
  std::vector<std::function<void()>> chores;
  for (const BackendConfig& backend : config.backends) {
    BackendConnection* c = self->registry_.Find(backend.name);
    chores.push_back([c] { c->ReportCircuitState(); });
  }
  chores.push_back([bytes = self->bytes_.get()] { TrimIfWorthIt(*bytes); });
  if (self->redis_ != nullptr) {
    // Transitions are logged with the client's reason (a refused AUTH, a
    // node answering READONLY, ...), sampled once a second.
    struct Seen {
      bool connected = false;
      std::string error;
    };
    chores.push_back([redis = self->redis_.get(),
                      metrics = self->idempotency_metrics_.get(),
                      seen = std::make_shared<Seen>()] {
      const bool up = redis->connected();
      metrics->SetConnected(up);
      if (up) {
        if (!seen->connected) LogInfo("idempotency store connected");
        seen->error.clear();
      } else if (std::string error = redis->last_error();
                 !error.empty() && (seen->connected || error != seen->error)) {
        LogWarning("idempotency store disconnected", {{"error", error}});
        seen->error = std::move(error);
      }
      seen->connected = up;
    });
  }
  if (config.tls.enabled()) {
    auto watch = std::make_shared<TlsFileWatch>(
        config.tls, [metrics = self->metrics_.get()](
                        bool ok, std::optional<absl::Time> not_after) {
          metrics->OnTlsFiles(ok, not_after);
        });
    chores.push_back([watch] { watch->Check(); });
  }
  self->housekeeping_ =
      std::make_unique<Housekeeping>(absl::Seconds(1), std::move(chores));
  self->inventory_metrics_ =
      std::make_unique<InventoryMetrics>(*self->metrics_->registry());
  for (const BackendConfig& backend : config.backends) {
    if (!backend.inventory.enabled) continue;
    auto poller = std::make_unique<InventoryPoller>(
        *self->registry_.Find(backend.name), backend.inventory,
        self->inventory_metrics_->ForBackend(backend.name));
    poller->Start();
    self->inventories_.push_back(std::move(poller));
    LogInfo("inventory started",
            {{"backend", backend.name},
             {"interval_s", absl::ToInt64Seconds(backend.inventory.interval)},
             {"projects", backend.inventory.projects.size()}});
  }
  self->SetServing(true);
  LogInfo("serving", {{"listen_address", config.listen_address},
                      {"port", self->port_},
                      {"metrics_port", self->metrics_port()},
                      {"backends", self->registry_.size()},
                      {"version", kBuildVersion},
                      {"revision", kBuildRevision}});
  return self;
}

void CertbridgeServer::SetServing(bool serving) {
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s == nullptr) continue;
    s->GetHealthCheckService()->SetServingStatus(kServiceName, serving);
    s->GetHealthCheckService()->SetServingStatus(serving);
  }
}

void CertbridgeServer::Shutdown(absl::Duration drain_delay,
                                absl::Duration grace) {
  if (shut_down_ || !server_) return;
  shut_down_ = true;
  // Sweeps first: they are no one's call, and their lists would otherwise
  // compete with the calls being drained.
  for (auto& inventory : inventories_) inventory->Stop();
  // NOT_SERVING first, so readiness probes fail and the pod leaves the
  // Service's endpoints; until that has reached every client (kube-proxy,
  // DNS, balancers), calls keep arriving and are served normally.
  SetServing(false);
  if (drain_delay > absl::ZeroDuration()) {
    LogInfo("draining: NOT_SERVING, still accepting calls",
            {{"drain_delay_ms", absl::ToInt64Milliseconds(drain_delay)}});
    absl::SleepFor(drain_delay);
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  if (health_server_) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
}

CertbridgeServer::~CertbridgeServer() {
  Shutdown(absl::ZeroDuration());
  // Stop the server object before the service it calls into goes away.
  server_.reset();
}

}  // namespace certbridge
