// Token endpoint answers (client_credentials_token_source.h) for both vendor
// kinds, and JWT `exp` claims. The input is used three ways: as the token
// endpoint's body (Leegality and Apinizer), as a token for JwtExpiry, and
// as the claims JSON of a JWT that a well-formed Apinizer answer carries.
// Properties: no exception escapes; errors are INVALID_ARGUMENT; a parsed
// token is non-empty; a JWT without expires_in expires at its exp claim.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/backends/vendor_registry.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

// Every shipped vendor's reader: untrusted bodies from a token endpoint.
void CheckBody(absl::string_view kind, absl::string_view body) {
  auto issued =
      certbridge::BuiltinVendors().Find(kind)->ParseTokenResponse(body, kNow);
  if (!issued.ok()) {
    FUZZ_CHECK(issued.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(!issued->token.empty());
  FUZZ_CHECK(issued->token.size() <= body.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input = certbridge::fuzz::AsText(data, size);
  CheckBody("leegality", input);
  CheckBody("apinizer", input);
  (void)certbridge::JwtExpiry(input);

  // The input as a JWT's claims: header.claims.signature, base64url.
  const std::string jwt = "eyJhbGciOiJIUzI1NiJ9." +
                          absl::WebSafeBase64Escape(input) + ".c2lnbmF0dXJl";
  const auto exp = certbridge::JwtExpiry(jwt);
  const std::string answer =
      nlohmann::json{{"access_token", jwt}, {"token_type", "Bearer"}}.dump();
  auto issued = certbridge::ParseTokenJson(answer, kNow);
  FUZZ_CHECK(issued.ok());
  FUZZ_CHECK(issued->token == jwt);
  FUZZ_CHECK(issued->expires == exp);
  return 0;
}
