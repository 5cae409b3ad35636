// certbridge-server: wiring only. Reads flags and the configuration file,
// builds transport -> stubs -> connections -> service, serves gRPC until
// SIGINT/SIGTERM.
#include <curl/curl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "server/backends/backend_registry.h"
#include "server/backends/stub_factory.h"
#include "server/common/log.h"
#include "server/config/server_config.h"
#include "server/http/curl_transport.h"
#include "server/service/certificate_checks.h"
#include "server/service/certificate_service.h"
#include "server/service/request_validation.h"

ABSL_FLAG(std::string, config, "",
          "Path of the JSON configuration file (env CERTBRIDGE_CONFIG).");
ABSL_FLAG(std::string, listen_address, "",
          "gRPC listen address, overriding the configuration file (env "
          "CERTBRIDGE_LISTEN_ADDRESS). Port 0 picks a free port.");
ABSL_FLAG(std::string, port_file, "",
          "After start-up, write the bound gRPC port to this file.");
ABSL_FLAG(std::string, log_level, "",
          "debug, info, warning or error (overrides the configuration).");

namespace certbridge {
namespace {

std::string FlagOrEnv(const absl::Flag<std::string>& flag, const char* env) {
  std::string value = absl::GetFlag(flag);
  if (value.empty()) {
    if (const char* e = std::getenv(env)) value = e;
  }
  return value;
}

int Fail(absl::string_view message) {
  LogError("start-up failed", {{"error", std::string(message)}});
  return 1;
}

// The bound port is written atomically so a watcher never reads half a file.
bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int Run() {
  const std::string config_path = FlagOrEnv(FLAGS_config, "CERTBRIDGE_CONFIG");
  if (config_path.empty()) {
    return Fail("no configuration: pass --config=FILE or set CERTBRIDGE_CONFIG");
  }
  auto config = LoadServerConfig(config_path);
  if (!config.ok()) return Fail(config.status().message());
  const std::string listen =
      FlagOrEnv(FLAGS_listen_address, "CERTBRIDGE_LISTEN_ADDRESS");
  if (!listen.empty()) config->listen_address = listen;
  std::string level_text = absl::GetFlag(FLAGS_log_level);
  if (level_text.empty()) level_text = config->log_level;
  LogLevel level;
  if (!ParseLogLevel(level_text, &level)) {
    return Fail("--log_level must be debug, info, warning or error");
  }
  Logger::Get().SetLevel(level);
  LoadLegacyPkcs12Support();

  auto transport = CurlTransport::Create();
  if (!transport.ok()) return Fail(transport.status().message());

  BackendRegistry registry;
  for (const BackendConfig& backend : config->backends) {
    auto connection = MakeBackendConnection(backend, **transport);
    if (!connection.ok()) return Fail(connection.status().message());
    registry.Add(*std::move(connection));
    LogInfo("backend configured",
            {{"backend", backend.name},
             {"kind", std::string(BackendKindName(backend.kind))},
             {"base_url", backend.base_url}});
  }

  CertificateServiceImpl service(registry,
                                 {/*default_deadline=*/config->default_deadline});
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config->listen_address,
                           grpc::InsecureServerCredentials(), &port);
  // A 5 MiB certificate plus the other fields must fit; anything larger is
  // refused by gRPC itself with RESOURCE_EXHAUSTED.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(kMaxCertificateFileBytes + 1024 * 1024));
  // Fail loudly on a taken port instead of silently sharing it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return Fail(absl::StrCat("cannot listen on ", config->listen_address));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty() && !WritePortFile(port_file, port)) {
    return Fail(absl::StrCat("cannot write --port_file ", port_file));
  }
  LogInfo("serving", {{"listen_address", config->listen_address},
                      {"port", port},
                      {"backends", registry.size()}});

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogInfo("shutting down", {{"signal", signal_number}});
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  server->Wait();
  return 0;
}

}  // namespace
}  // namespace certbridge

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "certbridge-server --config=FILE [--listen_address=HOST:PORT]");
  absl::ParseCommandLine(argc, argv);
  // Block the stop signals in every thread (gRPC's and libcurl's inherit the
  // mask) so main can wait for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  curl_global_init(CURL_GLOBAL_ALL);
  const int rc = certbridge::Run();
  curl_global_cleanup();
  return rc;
}
