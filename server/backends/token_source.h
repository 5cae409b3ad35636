// Where a backend's credentials come from. Asynchronous so that sources
// which fetch tokens over HTTP (client credentials) fit the same seam as
// static tokens; Invalidate() lets a stub ask for a fresh token after a 401.
#ifndef CERTBRIDGE_SERVER_BACKENDS_TOKEN_SOURCE_H_
#define CERTBRIDGE_SERVER_BACKENDS_TOKEN_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "server/backends/backend_observer.h"
#include "server/backends/call_context.h"
#include "server/backends/token_protocol.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"

namespace certbridge {

class TokenSource {
 public:
  using TokenCallback = absl::AnyInvocable<void(absl::StatusOr<std::string>)>;
  virtual ~TokenSource() = default;

  /// Delivers the current token (possibly inline). A wait for a token is
  /// registered with `ctx`, so cancelling the call ends it (CANCELLED).
  virtual void GetToken(CallContext& ctx, TokenCallback done) = 0;

  /// `token` was rejected; the next GetToken should not return it again if a
  /// newer one can be had.
  virtual void Invalidate(const std::string& token) = 0;

  /// Long-lived secrets behind the tokens (a client secret), redacted from
  /// whatever a call reports. Tokens themselves are added per call.
  virtual std::vector<std::string> Secrets() const { return {}; }
};

/// A fixed token (tests, and the environment-variable source).
std::shared_ptr<TokenSource> MakeStaticTokenSource(std::string token);

/// A token read from `path`, re-read when the file changes (checked at most
/// every `check_interval`, and right after Invalidate). Null if unreadable.
std::shared_ptr<TokenSource> MakeFileTokenSource(const std::string& backend,
                                                 const std::string& path,
                                                 absl::Duration check_interval);

/// Builds the source a backend's configuration asks for. Errors name the
/// backend and the file or variable, never the token. `protocol` and
/// `transport` serve client-credentials sources and must outlive the result.
absl::StatusOr<std::shared_ptr<TokenSource>> MakeTokenSource(
    const BackendConfig& config, const TokenProtocol& protocol,
    HttpTransport& transport, std::shared_ptr<BackendObserver> observer);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_TOKEN_SOURCE_H_
