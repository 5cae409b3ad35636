// Tokens fetched from a vendor's token endpoint with client credentials
// (Leegality POST /api/v1/auth/token, JSON; Apinizer POST /apiops/auth/token,
// form-encoded client_credentials). The token is cached until it expires
// (JWT `exp` or `expires_in`) and refreshed shortly before; after a 401 the
// next call fetches a new one. However many calls need a token at once,
// one request goes to the endpoint.
#ifndef CERTBRIDGE_SERVER_BACKENDS_CLIENT_CREDENTIALS_TOKEN_SOURCE_H_
#define CERTBRIDGE_SERVER_BACKENDS_CLIENT_CREDENTIALS_TOKEN_SOURCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/backends/backend_observer.h"
#include "server/backends/token_source.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"
#include "server/resilience/clock.h"

namespace certbridge {

/// What a token endpoint answered, vendor differences resolved.
struct IssuedToken {
  std::string token;
  /// Unset: the endpoint gave no lifetime (cached until a 401).
  std::optional<absl::Time> expires;
};

/// The `exp` claim of a JWT, if `token` is one and has it.
std::optional<absl::Time> JwtExpiry(absl::string_view token);

/// Parses a token endpoint's 2xx body for `kind` (Leegality's envelope is
/// undocumented: data.token / data.accessToken / token / access_token are
/// accepted; expiresIn / expires_in in seconds, else the JWT's exp).
absl::StatusOr<IssuedToken> ParseTokenResponse(BackendKind kind,
                                               absl::string_view body,
                                               absl::Time now);

class ClientCredentialsTokenSource final
    : public TokenSource,
      public std::enable_shared_from_this<ClientCredentialsTokenSource> {
 public:
  /// `transport` and `clock` must outlive the source. The secret is held
  /// in memory only.
  ClientCredentialsTokenSource(BackendConfig config, std::string client_secret,
                               HttpTransport& transport,
                               std::shared_ptr<BackendObserver> observer,
                               const Clock& clock);

  void GetToken(CallContext& ctx, TokenCallback done) override;
  void Invalidate(const std::string& token) override;
  std::vector<std::string> Secrets() const override { return {client_secret_}; }

  /// Refresh this long before expiry: 10 % of the lifetime, 5 s..60 s.
  static absl::Duration RefreshMargin(absl::Duration lifetime);

 private:
  void StartFetchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnFetched(HttpResult result);
  /// A waiting call was cancelled: it gets CANCELLED now; the fetch goes on
  /// for the others.
  void Abandon(std::uint64_t waiter);
  HttpRequest TokenRequest() const;

  const BackendConfig config_;
  const std::string client_secret_;
  HttpTransport& transport_;
  // Shared: a fetch completes on the transport's thread and may outlive
  // whoever else holds the observer.
  const std::shared_ptr<BackendObserver> observer_;
  const Clock& clock_;

  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> expires_ ABSL_GUARDED_BY(mu_);
  absl::Time refresh_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  std::uint64_t next_waiter_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::uint64_t, TokenCallback> waiters_ ABSL_GUARDED_BY(mu_);
  // Fetches complete one at a time (single flight), on the transport's
  // thread.
  bool failing_ = false;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_CLIENT_CREDENTIALS_TOKEN_SOURCE_H_
