// The vendors' token endpoints, emulated: client credentials in, an
// expiring JWT-shaped token out (Leegality POST /api/v1/auth/token with
// JSON clientId/clientSecret; Apinizer POST /apiops/auth/token,
// form-encoded client_credentials). The APIs then accept issued tokens
// until they expire, so certbridge's caching and refresh are tested
// against a real peer.
//
// Tokens are base64url(header).base64url({"sub","iat","exp","jti"}).sig;
// the signature is a random per-issuer string, since validity is decided by
// the issuer's table and clients only read `exp`. A token is valid while
// now < exp (whole unix seconds, rounded up from now + lifetime, so a token
// never lives shorter than its lifetime and the server agrees with the
// `exp` a client reads).
//
// Response shapes:
//   Apinizer 200  {"access_token", "token_type":"Bearer", "expires_in"}
//            400  {"error":"unsupported_grant_type", ...} (also for a body
//                 that is not form-encoded: it has no grant_type)
//            401  {"error":"unauthorized_client","error_description":
//                 "Bad credentials"}
//   Leegality 200 {"code":null,"message":null,
//                  "data":{"token","expiresIn"}} -- the vendor's envelope
//                 is not captured (leegality.md §2.2); null code and
//                 message keep clients from depending on invented values.
//             400 LE_ERR_SS_400 (body not a JSON object / fields missing),
//             401 LE_ERR_SS_401 (wrong credentials), 415 (not JSON, as the
//             emulated certificate endpoints answer a wrong content type).
// No response ever contains the client secret.
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

  /// `lifetime` is that of issued tokens until SetTokenLifetime, and again
  /// after Reset.
  TokenIssuer(Format format, std::string client_id, std::string client_secret,
              absl::Duration lifetime = absl::Hours(1));

  /// Serves one token request (no auth header needed). Thread-safe.
  HttpResponse Handle(const HttpRequest& request);
  /// kValid for an issued, unexpired, unrevoked token; kExpired for an
  /// issued one past its exp; kUnknown otherwise (revoked, never issued).
  Validity Check(const std::string& token) const;

  /// Lifetime of tokens issued from now on. Zero or negative: tokens are
  /// born expired.
  void SetTokenLifetime(absl::Duration lifetime);
  /// Issued tokens stop working (a 401) although not expired.
  void RevokeIssuedTokens();
  /// Requests to the token endpoint, whatever their outcome.
  int token_requests() const { return requests_.load(); }
  /// Forgets issued tokens, restores the constructor's lifetime and zeroes
  /// token_requests().
  void Reset();

 private:
  HttpResponse HandleApinizer(const HttpRequest& request);
  HttpResponse HandleLeegality(const HttpRequest& request);
  HttpResponse Issue();

  const Format format_;
  const std::string client_id_;
  const std::string client_secret_;
  const absl::Duration default_lifetime_;
  const std::string signature_;
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  absl::Duration lifetime_;
  std::map<std::string, absl::Time> issued_;  // token -> expiry
  int serial_ = 0;
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_TOKEN_ISSUER_H_
