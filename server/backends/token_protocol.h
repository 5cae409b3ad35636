// How a vendor's token endpoint is asked for a token with client
// credentials, and how its answer is read. Each vendor implements it (its
// body format, path and envelope differ); ClientCredentialsTokenSource does
// the caching, single flight and refresh the same way for all.
#ifndef CERTBRIDGE_SERVER_BACKENDS_TOKEN_PROTOCOL_H_
#define CERTBRIDGE_SERVER_BACKENDS_TOKEN_PROTOCOL_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config/server_config.h"
#include "server/http/http_message.h"

namespace certbridge {

/// What a token endpoint answered, vendor differences resolved.
struct IssuedToken {
  std::string token;
  /// Unset: the endpoint gave no lifetime (cached until a 401).
  std::optional<absl::Time> expires;
};

class TokenProtocol {
 public:
  virtual ~TokenProtocol() = default;
  /// Sets url, Content-Type and body of the token request. Method, timeouts,
  /// TLS and Accept are already set. `config.credentials.token_url`, when
  /// set, replaces the vendor's documented endpoint.
  virtual void BuildTokenRequest(const BackendConfig& config,
                                 absl::string_view client_secret,
                                 HttpRequest& request) const = 0;
  /// Reads a 2xx body. INVALID_ARGUMENT (without the body's text) when it
  /// holds no usable token.
  virtual absl::StatusOr<IssuedToken> ParseTokenResponse(
      absl::string_view body, absl::Time now) const = 0;
};

/// The `exp` claim of a JWT, if `token` is one and has it.
std::optional<absl::Time> JwtExpiry(absl::string_view token);

/// The reader vendors share: a JSON object whose token is one of
/// access_token / accessToken / token / jwt / idToken and lifetime
/// expires_in / expiresIn (seconds), else the JWT's exp; looked up in the
/// `envelope` member first when one is named. The token must be printable
/// ASCII (it goes into a header).
absl::StatusOr<IssuedToken> ParseTokenJson(absl::string_view body,
                                           absl::Time now,
                                           absl::string_view envelope = {});

/// RFC 3986 unreserved characters stay; every other byte is %XX
/// (application/x-www-form-urlencoded values).
std::string FormEscape(absl::string_view in);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_TOKEN_PROTOCOL_H_
