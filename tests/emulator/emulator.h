// The REST emulator of the vendors certbridge talks to: an HttpServer on
// loopback, a FaultInjector and a RequestLog in front of the vendor APIs
// (BackendApi: Leegality and Apinizer), plus /__emulator control
// endpoints. Used in-process by C++ tests and as the certbridge-emulator
// binary.
//
// Per backend request: record it -> take the first matching fault -> reset /
// delay (watching the socket) / injected status / malformed -> otherwise the
// API handles it -> record the status. Control requests (/__emulator/...)
// are neither faulted nor recorded.
#ifndef CERTBRIDGE_TESTS_EMULATOR_EMULATOR_H_
#define CERTBRIDGE_TESTS_EMULATOR_EMULATOR_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/emulator/apinizer_api.h"
#include "tests/emulator/backend_api.h"
#include "tests/emulator/fault_injector.h"
#include "tests/emulator/http_server.h"
#include "tests/emulator/leegality_api.h"
#include "tests/emulator/request_log.h"
#include "tests/emulator/token_issuer.h"

namespace certbridge::emulator {

struct EmulatorOptions {
  std::string host = "127.0.0.1";
  /// 0 picks a free port.
  int port = 0;
  std::string leegality_token = "emulator-leegality-token";
  std::string apinizer_token = "emulator-apinizer-token";
  /// Client credentials the token endpoints accept (Leegality POST
  /// /api/v1/auth/token, Apinizer POST /apiops/auth/token). The static
  /// tokens above stay valid besides the issued ones.
  std::string leegality_client_id = "emulator-client";
  std::string leegality_client_secret = "emulator-secret";
  std::string apinizer_client_id = "emulator-client";
  std::string apinizer_client_secret = "emulator-secret";
  /// Lifetime of issued tokens (both APIs); see SetTokenLifetime.
  absl::Duration token_ttl = absl::Hours(1);
  /// PEM files; when both are set the emulator serves HTTPS only.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Called once per finished backend request (the binary logs it).
  std::function<void(const RecordedRequest&)> on_request;
  /// More vendors' APIs, served after the built-in ones (a vendor that
  /// lives outside this folder, e.g. the example vendor of the tests).
  std::vector<std::shared_ptr<BackendApi>> extra_apis;
};

class Emulator {
 public:
  static absl::StatusOr<std::unique_ptr<Emulator>> Start(
      EmulatorOptions options);
  /// Stops the server and joins its threads.
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  int port() const;
  /// "http://127.0.0.1:PORT", or https:// with TLS (the host as
  /// configured).
  std::string base_url() const;
  /// TLS handshakes that failed, e.g. because the client refused the
  /// emulator's certificate (HttpServer::handshake_failures).
  int handshake_failures() const;

  void AddFault(FaultSpec fault);
  void ClearFaults();
  std::vector<RecordedRequest> Requests() const;
  void ClearRequests();
  /// Every API's state, the faults and the log.
  void Reset();
  /// Blocks until a recorded request satisfies `pred` or `timeout` passes;
  /// true if one did.
  bool WaitForRequest(std::function<bool(const RecordedRequest&)> pred,
                      absl::Duration timeout);
  /// Ends every hold (FaultSpec::hold, hold_after_apply) in progress; also
  /// POST /__emulator/release.
  void ReleaseHeld();
  /// Blocks until at least `count` requests are being held (a
  /// hold_after_apply one only once applied) or `timeout` passes.
  bool WaitUntilHeld(int count, absl::Duration timeout);

  /// Seed or inspect Leegality certificates (thread-safe methods).
  LeegalityState& leegality();
  /// The Apinizer API: error generation, failing environments, state.
  ApinizerApi& apinizer();
  /// The token endpoints (lifetime, revocation, request counts).
  TokenIssuer& leegality_tokens() { return *leegality_tokens_; }
  TokenIssuer& apinizer_tokens() { return *apinizer_tokens_; }
  /// Both APIs: the lifetime of tokens issued from now on (Reset restores
  /// options.token_ttl), and revoking every issued token (the static
  /// tokens keep working).
  void SetTokenLifetime(absl::Duration lifetime);
  void RevokeIssuedTokens();

 private:
  explicit Emulator(EmulatorOptions options);
  HttpResponse Handle(const HttpRequest& request, ConnectionControl& control);
  HttpResponse HandleControl(const HttpRequest& request);
  HttpResponse HandleBackend(const HttpRequest& request,
                             ConnectionControl& control);
  /// Until ReleaseHeld(), the client closes or the server stops; kElapsed
  /// when released.
  WaitResult Hold(ConnectionControl& control);

  const EmulatorOptions options_;
  FaultInjector faults_;
  RequestLog log_;
  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  int held_ = 0;                     // guarded by hold_mu_
  std::uint64_t release_count_ = 0;  // guarded by hold_mu_
  std::unique_ptr<TokenIssuer> leegality_tokens_;
  std::unique_ptr<TokenIssuer> apinizer_tokens_;
  std::unique_ptr<LeegalityApi> leegality_;
  std::unique_ptr<ApinizerApi> apinizer_;
  /// Tried in order; the first whose Serves() matches handles the request.
  std::vector<BackendApi*> apis_;
  std::unique_ptr<HttpServer> server_;  // last: stopped first
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_EMULATOR_H_
