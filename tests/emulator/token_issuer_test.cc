// The token endpoints over real HTTP: Leegality POST /api/v1/auth/token
// (JSON) and Apinizer POST /apiops/auth/token (form), their errors, and the
// APIs accepting issued tokens until they expire or are revoked.
#include "tests/emulator/token_issuer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "tests/emulator/curl_test_client.h"
#include "tests/emulator/emulator.h"

namespace certbridge::emulator {
namespace {

using ::certbridge::emulator::test::CurlClient;
using ::certbridge::emulator::test::CurlReply;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";
constexpr char kApinizerCerts[] = "/apiops/projects/Payments/certificates/";
constexpr char kJson[] = "Content-Type: application/json";
constexpr char kForm[] = "Content-Type: application/x-www-form-urlencoded";

// The JWT's claims (the middle part).
json Claims(const std::string& token) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return json();
  std::string payload;
  if (!absl::WebSafeBase64Unescape(parts[1], &payload)) return json();
  return json::parse(payload, nullptr, false);
}

class TokenEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(EmulatorOptions()); }

  void Start(EmulatorOptions options) {
    emulator_.reset();
    options_ = options;
    auto e = Emulator::Start(std::move(options));
    ASSERT_TRUE(e.ok()) << e.status();
    emulator_ = *std::move(e);
  }

  std::string Url(const std::string& path) const {
    return emulator_->base_url() + path;
  }

  CurlReply LeegalityToken(const std::string& id, const std::string& secret) {
    return client_.Send("POST", Url("/api/v1/auth/token"),
                        json{{"clientId", id}, {"clientSecret", secret}}.dump(),
                        {kJson});
  }
  std::string LeegalityJwt() {
    CurlReply r = LeegalityToken(options_.leegality_client_id,
                                 options_.leegality_client_secret);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["data"].value("token", "");
  }
  CurlReply LeegalityGet(const std::string& header) {
    return client_.Send("GET", Url("/api/v1/certificates/") + kMissingId, "",
                        {header});
  }

  CurlReply ApinizerToken(const std::string& body,
                          const std::string& content_type = kForm) {
    return client_.Send("POST", Url("/apiops/auth/token"), body,
                        {content_type, "Accept: application/json"});
  }
  std::string ApinizerJwt() {
    CurlReply r =
        ApinizerToken("grant_type=client_credentials&client_id=" +
                      options_.apinizer_client_id +
                      "&client_secret=" + options_.apinizer_client_secret);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).value("access_token", "");
  }
  CurlReply ApinizerList(const std::string& token) {
    return client_.Send("GET", Url(kApinizerCerts), "",
                        {"Authorization: Bearer " + token});
  }

  EmulatorOptions options_;
  std::unique_ptr<Emulator> emulator_;
  CurlClient client_;
};

// --- Leegality --------------------------------------------------------------

TEST_F(TokenEndpointTest, LeegalityIssuesAnExpiringJwt) {
  const std::int64_t before = absl::ToUnixSeconds(absl::Now());
  CurlReply r = LeegalityToken("emulator-client", "emulator-secret");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  const json body = json::parse(r.body);
  EXPECT_TRUE(body["code"].is_null());
  EXPECT_TRUE(body["message"].is_null());
  EXPECT_EQ(body["data"]["expiresIn"], 3600);
  const std::string token = body["data"]["token"];
  const json claims = Claims(token);
  ASSERT_TRUE(claims.is_object()) << token;
  EXPECT_EQ(claims["sub"], "emulator-client");
  EXPECT_GE(claims["exp"].get<std::int64_t>(), before + 3600);
  EXPECT_LE(claims["exp"].get<std::int64_t>(),
            absl::ToUnixSeconds(absl::Now()) + 3601);
  EXPECT_GE(claims["iat"].get<std::int64_t>(), before);
  EXPECT_THAT(r.body, Not(HasSubstr("emulator-secret")));
  EXPECT_EQ(emulator_->leegality_tokens().token_requests(), 1);

  // Recorded like any backend request.
  const auto requests = emulator_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].api, "leegality");
  EXPECT_EQ(requests[0].path, "/api/v1/auth/token");
  EXPECT_EQ(requests[0].status, 200);

  // The real server root (/api) works too.
  EXPECT_EQ(client_
                .Send("POST", Url("/api/api/v1/auth/token"),
                      R"({"clientId":"emulator-client",)"
                      R"("clientSecret":"emulator-secret"})",
                      {kJson})
                .status,
            200);
}

TEST_F(TokenEndpointTest, LeegalityAcceptsIssuedTokensInEitherHeader) {
  const std::string token = LeegalityJwt();
  EXPECT_EQ(LeegalityGet("X-Auth-Token: " + token).status, 404);
  EXPECT_EQ(LeegalityGet("Authorization: Bearer " + token).status, 404);
  // The static token still works.
  EXPECT_EQ(LeegalityGet("X-Auth-Token: " + options_.leegality_token).status,
            404);
  // Tokens are per vendor.
  EXPECT_EQ(ApinizerList(token).status, 401);
}

TEST_F(TokenEndpointTest, LeegalityRefusesBadCredentialsWithoutEchoingThem) {
  CurlReply r = LeegalityToken("emulator-client", "guessed-secret-42");
  EXPECT_EQ(r.status, 401);
  const json body = json::parse(r.body);
  EXPECT_EQ(body["code"], "LE_ERR_SS_401");
  EXPECT_EQ(body["errors"][0]["path"], "/api/v1/auth/token");
  EXPECT_THAT(r.body, Not(HasSubstr("guessed-secret-42")));
  EXPECT_EQ(LeegalityToken("someone-else", "emulator-secret").status, 401);
  EXPECT_EQ(emulator_->leegality_tokens().token_requests(), 2);
}

TEST_F(TokenEndpointTest, LeegalityMalformedRequests) {
  const std::string url = Url("/api/v1/auth/token");
  const std::string good =
      R"({"clientId":"emulator-client","clientSecret":"emulator-secret"})";
  // Form-encoded instead of JSON.
  CurlReply form = client_.Send(
      "POST", url, "clientId=emulator-client&clientSecret=emulator-secret",
      {kForm});
  EXPECT_EQ(form.status, 415);
  EXPECT_EQ(json::parse(form.body)["code"], "LE_ERR_SS_415");
  EXPECT_EQ(client_.Send("POST", url, "{not json", {kJson}).status, 400);
  CurlReply missing =
      client_.Send("POST", url, R"({"clientId":"emulator-client"})", {kJson});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body)["code"], "LE_ERR_SS_400");
  EXPECT_EQ(client_.Send("GET", url).status, 405);
  EXPECT_EQ(client_.Send("POST", url, good, {kJson}).status, 200);
}

TEST_F(TokenEndpointTest, LeegalityTokenExpires) {
  emulator_->leegality_tokens().SetTokenLifetime(absl::Seconds(1));
  CurlReply r = LeegalityToken("emulator-client", "emulator-secret");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["data"]["expiresIn"], 1);
  const std::string token = json::parse(r.body)["data"]["token"];
  const absl::Time exp =
      absl::FromUnixSeconds(Claims(token)["exp"].get<std::int64_t>());
  EXPECT_EQ(LeegalityGet("X-Auth-Token: " + token).status, 404);
  // Time, not synchronisation: the token has to expire.
  absl::SleepFor(exp - absl::Now() + absl::Milliseconds(20));
  CurlReply expired = LeegalityGet("X-Auth-Token: " + token);
  EXPECT_EQ(expired.status, 401);
  const json body = json::parse(expired.body);
  EXPECT_EQ(body["code"], "LE_ERR_SS_401");
  EXPECT_EQ(body["errors"][0]["code"], "LE_ERR_SS_303");
  EXPECT_EQ(body["errors"][0]["message"], "Invalid or expired token");
}

TEST_F(TokenEndpointTest, ZeroLifetimeTokensAreBornExpired) {
  emulator_->SetTokenLifetime(absl::ZeroDuration());
  const std::string token = LeegalityJwt();
  EXPECT_LE(Claims(token)["exp"].get<std::int64_t>(),
            absl::ToUnixSeconds(absl::Now()));
  EXPECT_EQ(LeegalityGet("X-Auth-Token: " + token).status, 401);
  EXPECT_EQ(ApinizerList(ApinizerJwt()).status, 401);
}

TEST_F(TokenEndpointTest, RevokedTokensGet401) {
  const std::string leegality = LeegalityJwt();
  const std::string apinizer = ApinizerJwt();
  emulator_->RevokeIssuedTokens();
  EXPECT_EQ(LeegalityGet("X-Auth-Token: " + leegality).status, 401);
  CurlReply r = ApinizerList(apinizer);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body)["resultMessage"], "Token is not valid!");
  // New tokens and the static ones work.
  EXPECT_EQ(LeegalityGet("X-Auth-Token: " + LeegalityJwt()).status, 404);
  EXPECT_EQ(ApinizerList(options_.apinizer_token).status, 200);
}

// --- Apinizer ---------------------------------------------------------------

TEST_F(TokenEndpointTest, ApinizerIssuesTheDocumentedResponse) {
  const std::int64_t before = absl::ToUnixSeconds(absl::Now());
  CurlReply r = ApinizerToken(
      "grant_type=client_credentials&client_id=emulator-client&client_secret="
      "emulator-secret");
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body);
  EXPECT_EQ(body.size(), 3u) << r.body;
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  const std::string token = body["access_token"];
  const json claims = Claims(token);
  EXPECT_EQ(claims["sub"], "emulator-client");
  EXPECT_GE(claims["exp"].get<std::int64_t>(), before + 3600);
  EXPECT_LE(claims["exp"].get<std::int64_t>(),
            absl::ToUnixSeconds(absl::Now()) + 3601);
  EXPECT_EQ(ApinizerList(token).status, 200);
  EXPECT_EQ(emulator_->apinizer_tokens().token_requests(), 1);
  EXPECT_EQ(emulator_->leegality_tokens().token_requests(), 0);
  EXPECT_EQ(emulator_->Requests()[0].api, "apinizer");
}

TEST_F(TokenEndpointTest, ApinizerErrorsAreTheDocumentedOnes) {
  CurlReply bad = ApinizerToken(
      "grant_type=client_credentials&client_id=emulator-client&client_secret="
      "wrong-secret-77");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(json::parse(bad.body),
            json::parse(R"({"error":"unauthorized_client",)"
                        R"("error_description":"Bad credentials"})"));
  EXPECT_THAT(bad.body, Not(HasSubstr("wrong-secret-77")));

  const json unsupported = json::parse(
      R"({"error":"unsupported_grant_type",)"
      R"("error_description":"GrantType value must be client_credentials!"})");
  CurlReply grant = ApinizerToken(
      "grant_type=password&client_id=emulator-client&client_secret="
      "emulator-secret");
  EXPECT_EQ(grant.status, 400);
  EXPECT_EQ(json::parse(grant.body), unsupported);
  // JSON instead of the form: no form fields, so no grant_type.
  CurlReply as_json = ApinizerToken(
      R"({"grant_type":"client_credentials","client_id":"emulator-client",)"
      R"("client_secret":"emulator-secret"})",
      kJson);
  EXPECT_EQ(as_json.status, 400);
  EXPECT_EQ(json::parse(as_json.body), unsupported);
  EXPECT_EQ(emulator_->apinizer_tokens().token_requests(), 3);
}

TEST_F(TokenEndpointTest, ApinizerFormValuesAreDecoded) {
  EmulatorOptions options;
  options.apinizer_client_id = "svc cert@sync";
  options.apinizer_client_secret = "p&ss=w%rd+";
  Start(options);
  CurlReply r = ApinizerToken(
      "client_secret=p%26ss%3Dw%25rd%2B&grant_type=client_credentials&"
      "client_id=svc+cert%40sync");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(TokenEndpointTest, ApinizerExpiredTokenIsTokenWasExpired) {
  emulator_->apinizer_tokens().SetTokenLifetime(absl::Seconds(1));
  const std::string token = ApinizerJwt();
  EXPECT_EQ(ApinizerList(token).status, 200);
  const absl::Time exp =
      absl::FromUnixSeconds(Claims(token)["exp"].get<std::int64_t>());
  // Time, not synchronisation: the token has to expire.
  absl::SleepFor(exp - absl::Now() + absl::Milliseconds(20));
  CurlReply r = ApinizerList(token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"status":"FAILURE",)"
                        R"("resultMessage":"Token was expired!"})"));
}

// --- shared behaviour -------------------------------------------------------

TEST_F(TokenEndpointTest, FaultsApplyToTokenRequests) {
  FaultSpec f;
  f.path_prefix = "/apiops/auth/token";
  f.status = 503;
  emulator_->AddFault(f);
  CurlReply r = ApinizerToken(
      "grant_type=client_credentials&client_id=emulator-client&client_secret="
      "emulator-secret");
  EXPECT_EQ(r.status, 503);
  // The injected reply never reached the endpoint.
  EXPECT_EQ(emulator_->apinizer_tokens().token_requests(), 0);
  EXPECT_EQ(emulator_->Requests()[0].status, 503);
  EXPECT_FALSE(ApinizerJwt().empty());
}

TEST_F(TokenEndpointTest, OptionsAndResetSetCredentialsAndLifetime) {
  EmulatorOptions options;
  options.leegality_client_id = "acme-signing-gateway";
  options.leegality_client_secret = "q8Zt";
  options.token_ttl = absl::Minutes(5);
  Start(options);
  EXPECT_EQ(LeegalityToken("emulator-client", "emulator-secret").status, 401);
  CurlReply r = LeegalityToken("acme-signing-gateway", "q8Zt");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["data"]["expiresIn"], 300);

  emulator_->SetTokenLifetime(absl::Seconds(30));
  r = LeegalityToken("acme-signing-gateway", "q8Zt");
  EXPECT_EQ(json::parse(r.body)["data"]["expiresIn"], 30);
  const std::string token = json::parse(r.body)["data"]["token"];

  emulator_->Reset();
  EXPECT_EQ(emulator_->leegality_tokens().token_requests(), 0);
  EXPECT_EQ(LeegalityGet("X-Auth-Token: " + token).status, 401)
      << "Reset forgets issued tokens";
  r = LeegalityToken("acme-signing-gateway", "q8Zt");
  EXPECT_EQ(json::parse(r.body)["data"]["expiresIn"], 300)
      << "Reset restores options.token_ttl";
}

}  // namespace
}  // namespace certbridge::emulator
