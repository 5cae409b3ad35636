// Starts the real thing for integration tests: the REST emulator on a free
// loopback port and a CertbridgeServer (gRPC on 127.0.0.1:0, libcurl engine)
// configured with one backend instance of each kind pointing at it.
#ifndef CERTBRIDGE_TESTS_INTEGRATION_CERTBRIDGE_HARNESS_H_
#define CERTBRIDGE_TESTS_INTEGRATION_CERTBRIDGE_HARNESS_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "server/app/certbridge_server.h"
#include "server/config/server_config.h"
#include "tests/emulator/emulator.h"
#include "tests/testing/reserved_port.h"

namespace certbridge::testing {

inline constexpr char kLeegalityParent[] = "backends/leegality";
inline constexpr char kHrDepartment[] = "18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52";
inline constexpr char kLegalDepartment[] =
    "7c1f0a52-3b7e-4b0c-9a55-0d2c1e9b8f10";

struct HarnessOptions {
  /// Edits the generated configuration before the server starts.
  std::function<void(ServerConfig&)> configure;
  /// The server's vendors (default: the shipped ones); must outlive the
  /// harness.
  const VendorRegistry* vendors = nullptr;
  /// More APIs for the emulator to serve (a test vendor's).
  std::vector<std::shared_ptr<emulator::BackendApi>> extra_apis;
};

class Harness {
 public:
  /// Fails the current test (and returns nullptr) if anything cannot start.
  static std::unique_ptr<Harness> Start(HarnessOptions options = {});
  ~Harness();

  emulator::Emulator& emulator() { return *emulator_; }
  v1::CertificateService::Stub& stub() { return *stub_; }
  CertbridgeServer& server() { return *server_; }
  const ServerConfig& config() const { return config_; }
  /// Directory for files the test wants to write; removed at the end.
  const std::string& temp_dir() const { return temp_dir_; }

  /// A client context with a deadline `timeout` from now.
  static std::unique_ptr<grpc::ClientContext> Context(
      absl::Duration timeout = absl::Seconds(10));

  /// A base URL on which nothing listens (connection refused): a port held
  /// by a ReservedPort, so no one else can start listening there. The
  /// reservation is handed to the next Harness::Start() on this thread
  /// (call DeadUrl() before it or from HarnessOptions::configure) and held
  /// until that harness is destroyed.
  static std::string DeadUrl();

 private:
  Harness() = default;
  std::string temp_dir_;
  std::unique_ptr<emulator::Emulator> emulator_;
  ServerConfig config_;
  std::unique_ptr<CertbridgeServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CertificateService::Stub> stub_;
  /// The ports behind DeadUrl()s of this harness' configuration.
  std::vector<ReservedPort> dead_ports_;
};

/// The decoded google.rpc.ErrorInfo of a failed call (empty reason if none).
struct RpcError {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::string reason;
  std::map<std::string, std::string> metadata;
  int error_info_count = 0;
  bool has_retry_info = false;
  absl::Duration retry_delay;
  std::vector<std::string> violation_fields;
};
RpcError DecodeRpcError(const grpc::Status& status);

/// GET http://127.0.0.1:`port`/metrics (5 s timeout): the text a
/// Prometheus scrape would see; "" (and a test failure) when it fails.
std::string ScrapeMetrics(int port);

/// Replaces `path` with `content` by rename, as Kubernetes swaps a mounted
/// Secret: a watcher never sees a half-written file.
void WriteFileAtomically(const std::string& path, const std::string& content);

/// A Leegality create request for a fresh PKCS#12.
v1::CreateCertificateRequest LeegalityCreateRequest(
    const std::string& file_name, const std::string& passkey = "test-passkey",
    std::size_t exact_size = 0);

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_INTEGRATION_CERTBRIDGE_HARNESS_H_
