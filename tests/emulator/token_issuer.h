// The vendors' token endpoints, emulated: client credentials in, an
// expiring JWT-shaped token out (Leegality POST /api/v1/auth/token with
// JSON clientId/clientSecret; Apinizer POST /apiops/auth/token,
// form-encoded client_credentials). The APIs then accept issued tokens
// until they expire, so certbridge's caching and refresh are tested
// against a real peer.
#ifndef CERTBRIDGE_TESTS_EMULATOR_TOKEN_ISSUER_H_
#define CERTBRIDGE_TESTS_EMULATOR_TOKEN_ISSUER_H_

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "tests/emulator/http_server.h"

namespace certbridge::emulator {

class TokenIssuer {
 public:
  enum class Format { kLeegalityJson, kApinizerForm };
  enum class Validity { kValid, kExpired, kUnknown };

  TokenIssuer(Format format, std::string client_id, std::string client_secret)
      : format_(format),
        client_id_(std::move(client_id)),
        client_secret_(std::move(client_secret)) {}

  /// Serves one token request (no auth header needed).
  HttpResponse Handle(const HttpRequest& request);
  Validity Check(const std::string& token) const;

  /// Lifetime of tokens issued from now on (default 1 h).
  void SetTokenLifetime(absl::Duration ttl);
  /// Issued tokens stop working (a 401) although not expired.
  void RevokeIssuedTokens();
  int token_requests() const { return requests_.load(); }
  void Reset();

 private:
  HttpResponse Issue();

  const Format format_;
  const std::string client_id_;
  const std::string client_secret_;
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  absl::Duration ttl_ = absl::Hours(1);
  std::map<std::string, absl::Time> issued_;  // token -> expiry
  int serial_ = 0;
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_TOKEN_ISSUER_H_
