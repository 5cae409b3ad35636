// Tokens fetched from a vendor's token endpoint with client credentials,
// in the vendor's TokenProtocol. The token is cached until it expires
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
#include "server/backends/token_protocol.h"
#include "server/backends/token_source.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"
#include "server/resilience/clock.h"

namespace certbridge {

class ClientCredentialsTokenSource final
    : public TokenSource,
      public std::enable_shared_from_this<ClientCredentialsTokenSource> {
 public:
  /// `protocol`, `transport` and `clock` must outlive the source. The
  /// secret is held in memory only.
  ClientCredentialsTokenSource(BackendConfig config,
                               const TokenProtocol& protocol,
                               std::string client_secret,
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
  const TokenProtocol& protocol_;
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
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_CLIENT_CREDENTIALS_TOKEN_SOURCE_H_
