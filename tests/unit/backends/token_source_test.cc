// Where backend credentials come from: a token file that is re-read when it
// changes, and client-credentials tokens that are cached, refreshed before
// expiry, refreshed after a 401, and fetched once for many callers.
#include "server/backends/token_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "absl/strings/escaping.h"
#include "server/backends/call_context.h"
#include "server/backends/client_credentials_token_source.h"
#include "server/backends/leegality/leegality_stub.h"
#include "server/common/errors.h"
#include "server/common/failure.h"
#include "server/common/log.h"
#include "tests/testing/builtin_vendor.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/names.h"
#include "tests/unit/resilience/fake_clock.h"

namespace certbridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A call that is never cancelled, for token requests outside a real call.
CallContext& AnyCall() {
  static auto* ctx =
      new CallContext(absl::Now() + absl::Hours(1), "token-source-test");
  return *ctx;
}

// The token if it is answered at once. A waiter may be answered after this
// returns, when the fetch completes; it writes into shared state, not into
// this frame (ASan found the frame written after return).
std::optional<std::string> Token(TokenSource& source) {
  auto out = std::make_shared<std::optional<std::string>>();
  source.GetToken(AnyCall(), [out](absl::StatusOr<std::string> t) {
    *out = t.ok() ? *t : "ERROR:" + std::string(t.status().message());
  });
  return *out;
}

void WriteAtomically(const std::string& path, const std::string& content) {
  // As Kubernetes does: write elsewhere, then swap in.
  const std::string tmp = path + ".new";
  std::ofstream(tmp) << content;
  std::rename(tmp.c_str(), path.c_str());
}

class FileTokenSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/certbridge-token.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/token";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(FileTokenSourceTest, RotatedFileIsPickedUpWithoutRestart) {
  WriteAtomically(path_, "first-token\n");
  auto source = MakeFileTokenSource("lee", path_, absl::ZeroDuration());
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(Token(*source), "first-token");
  WriteAtomically(path_, "second-token\n");
  EXPECT_EQ(Token(*source), "second-token");
}

TEST_F(FileTokenSourceTest, ChecksAreRateLimitedButA401ForcesOne) {
  WriteAtomically(path_, "first-token");
  auto source = MakeFileTokenSource("lee", path_, absl::Hours(1));
  WriteAtomically(path_, "second-token");
  EXPECT_EQ(Token(*source), "first-token") << "not checked yet";
  source->Invalidate("first-token");
  EXPECT_EQ(Token(*source), "second-token");
}

// A token goes into a header: a rotated file with a CR/LF in it must not
// become a header injection; the last good token stays.
TEST_F(FileTokenSourceTest, TokensThatAHeaderCannotCarryAreRefused) {
  WriteAtomically(path_, "bad\r\nX-Injected: yes");
  EXPECT_EQ(MakeFileTokenSource("lee", path_, absl::ZeroDuration()), nullptr);
  WriteAtomically(path_, "good-token");
  auto source = MakeFileTokenSource("lee", path_, absl::ZeroDuration());
  ASSERT_NE(source, nullptr);
  WriteAtomically(path_, "evil\r\nX-Injected: yes");
  EXPECT_EQ(Token(*source), "good-token");
}

TEST_F(FileTokenSourceTest, EmptyFileMidRotationKeepsTheLastToken) {
  WriteAtomically(path_, "good-token");
  auto source = MakeFileTokenSource("lee", path_, absl::ZeroDuration());
  WriteAtomically(path_, "");
  EXPECT_EQ(Token(*source), "good-token");
}

std::string Jwt(absl::Time exp) {
  auto b64 = [](const std::string& s) { return absl::WebSafeBase64Escape(s); };
  return b64(R"({"alg":"HS256"})") + "." +
         b64(R"({"sub":"svc","exp":)" +
             std::to_string(absl::ToUnixSeconds(exp)) + "}") +
         ".sig";
}

class CountingObserver final : public BackendObserver {
 public:
  void OnTokenRefresh(const absl::Status& result) override {
    (result.ok() ? ok_ : failed_)++;
  }
  int ok_ = 0, failed_ = 0;
};

class ClientCredentialsTest : public ::testing::Test {
 protected:
  ClientCredentialsTest() {
    config_.name = "lee";
    config_.kind = "leegality";
    config_.base_url = "http://lee.test/api";
    config_.credentials.source = CredentialsConfig::Source::kClientCredentials;
    config_.credentials.client_id = "svc-client";
  }
  std::shared_ptr<ClientCredentialsTokenSource> Make() {
    return std::make_shared<ClientCredentialsTokenSource>(
        config_, BuiltinVendor(config_.kind), "s3cr3t&=value", transport_,
        std::shared_ptr<BackendObserver>(&observer_, [](BackendObserver*) {}),
        clock_);
  }
  BackendConfig config_;
  testing::FakeTransport transport_;
  testing::FakeClock clock_;
  CountingObserver observer_;
};

TEST(JwtTest, ReadsExp) {
  const absl::Time exp = absl::FromUnixSeconds(1'900'000'000);
  EXPECT_EQ(JwtExpiry(Jwt(exp)), exp);
  EXPECT_EQ(JwtExpiry("opaque-token"), std::nullopt);
}

TEST_F(ClientCredentialsTest, ManyCallersOneLeegalityTokenRequest) {
  auto source = Make();
  std::vector<std::optional<std::string>> got(20);
  for (auto& g : got) {
    source->GetToken(AnyCall(),
                     [&g](absl::StatusOr<std::string> t) { g = *t; });
  }
  ASSERT_EQ(transport_.requests().size(), 1u);
  const HttpRequest& r = transport_.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://lee.test/api/api/v1/auth/token");
  EXPECT_EQ(r.body_view(),
            R"({"clientId":"svc-client","clientSecret":"s3cr3t&=value"})");
  const std::string jwt = Jwt(clock_.Now() + absl::Hours(1));
  ASSERT_TRUE(
      transport_.Respond(200, R"({"data":{"token":")" + jwt + R"("}})"));
  for (auto& g : got) EXPECT_EQ(g, jwt);
  EXPECT_EQ(Token(*source), jwt);
  EXPECT_EQ(transport_.requests().size(), 1u) << "cached";
  EXPECT_EQ(observer_.ok_, 1);
}

TEST_F(ClientCredentialsTest, RefreshesShortlyBeforeExpiryWithoutBlocking) {
  auto source = Make();
  const std::string first = Jwt(clock_.Now() + absl::Hours(1));
  source->GetToken(AnyCall(), [](absl::StatusOr<std::string>) {});
  ASSERT_TRUE(transport_.Respond(200, R"({"token":")" + first + R"("})"));
  clock_.Advance(absl::Minutes(59) + absl::Seconds(30));  // 30 s left
  EXPECT_EQ(Token(*source), first) << "still valid: no wait";
  ASSERT_EQ(transport_.pending_transfers(), 1u) << "refresh started";
  const std::string second = Jwt(clock_.Now() + absl::Hours(1));
  ASSERT_TRUE(transport_.Respond(200, R"({"token":")" + second + R"("})"));
  EXPECT_EQ(Token(*source), second);
}

TEST_F(ClientCredentialsTest, ExpiredOrInvalidatedTokensAreFetchedAgain) {
  auto source = Make();
  source->GetToken(AnyCall(), [](absl::StatusOr<std::string>) {});
  ASSERT_TRUE(transport_.Respond(
      200, R"({"data":{"accessToken":"opaque-1","expiresIn":60}})"));
  clock_.Advance(absl::Seconds(61));
  EXPECT_EQ(Token(*source), std::nullopt) << "waits for a fresh token";
  ASSERT_TRUE(
      transport_.Respond(200, R"({"data":{"accessToken":"opaque-2"}})"));
  EXPECT_EQ(Token(*source), "opaque-2") << "no lifetime: cached until a 401";
  source->Invalidate("opaque-2");
  EXPECT_EQ(Token(*source), std::nullopt);
  EXPECT_EQ(transport_.requests().size(), 3u);
}

TEST_F(ClientCredentialsTest, ApinizerFormEncodedClientCredentials) {
  config_.kind = "apinizer";
  config_.base_url = "http://mgr.test/apiops";
  auto source = Make();
  std::optional<std::string> got;
  source->GetToken(AnyCall(), [&](absl::StatusOr<std::string> t) { got = *t; });
  const HttpRequest& r = transport_.requests()[0];
  EXPECT_EQ(r.url, "http://mgr.test/apiops/auth/token");
  EXPECT_EQ(r.body_view(),
            "grant_type=client_credentials&client_id=svc-client&client_secret="
            "s3cr3t%26%3Dvalue");
  ASSERT_TRUE(transport_.Respond(
      200,
      R"({"access_token":"tok-a","token_type":"Bearer","expires_in":3600})"));
  EXPECT_EQ(got, "tok-a");
}

// Issue 10 finding 14: exp from the payload is untrusted; a huge or
// fractional value must not reach an undefined conversion.
TEST(JwtTest, OutlandishExpIsIgnored) {
  auto b64 = [](const std::string& s) { return absl::WebSafeBase64Escape(s); };
  for (const char* exp : {"1e300", "-5", "1.5e10", "18446744073709551615"}) {
    const std::string token = b64(R"({"alg":"HS256"})") + "." +
                              b64(std::string(R"({"exp":)") + exp + "}") +
                              ".sig";
    const auto parsed = JwtExpiry(token);
    if (parsed) {
      EXPECT_LT(*parsed, absl::FromUnixSeconds(100'000'000'000));
    }
  }
}

TEST(TokenResponseTest, TokensWithHeaderBreakingCharactersAreRefused) {
  auto r = ParseTokenJson(R"({"access_token":"a\r\nX-Evil: 1"})", absl::Now());
  EXPECT_FALSE(r.ok());
}

// Issue 10 finding 13: a call waiting for a token stops waiting when it is
// cancelled; the fetch goes on for the others.
TEST_F(ClientCredentialsTest, CancelledCallStopsWaitingForTheToken) {
  auto source = Make();
  CallContext cancelled(absl::Now() + absl::Minutes(1), "a");
  std::optional<absl::StatusOr<std::string>> a, b;
  source->GetToken(cancelled, [&](absl::StatusOr<std::string> t) { a = t; });
  source->GetToken(AnyCall(), [&](absl::StatusOr<std::string> t) { b = t; });
  ASSERT_EQ(transport_.pending_transfers(), 1u);
  cancelled.Cancel();
  ASSERT_TRUE(a.has_value()) << "no waiting for the fetch";
  EXPECT_EQ(a->status().code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(b.has_value());
  ASSERT_TRUE(transport_.Respond(200, R"({"token":"tok"})"));
  ASSERT_TRUE(b.has_value());
  ASSERT_TRUE(b->ok());
  EXPECT_EQ(**b, "tok");
}

// Issue 10 finding 8: the token endpoint failing is a backend failure the
// breaker counts, and since the API call never left, any method may retry.
TEST_F(ClientCredentialsTest, TokenEndpointFailuresCarryTheirFacts) {
  auto source = Make();
  std::optional<absl::Status> error;
  source->GetToken(AnyCall(),
                   [&](absl::StatusOr<std::string> t) { error = t.status(); });
  ASSERT_TRUE(transport_.Respond(503, "down"));
  ASSERT_TRUE(error.has_value());
  auto facts = GetFailureFacts(*error);
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->source, FailureFacts::Source::kTokenEndpoint);
  EXPECT_EQ(facts->http_status, 503);
  // A token endpoint that is down is an outage, not refused credentials
  // (errors.md: "its own reason").
  EXPECT_EQ(error->code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorInfo(*error)->reason, "BACKEND_UNAVAILABLE");
}

TEST_F(ClientCredentialsTest, RateLimitedTokenEndpointIsResourceExhausted) {
  auto source = Make();
  std::optional<absl::Status> error;
  source->GetToken(AnyCall(),
                   [&](absl::StatusOr<std::string> t) { error = t.status(); });
  ASSERT_TRUE(transport_.Respond(429, "slow down"));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetErrorInfo(*error)->reason, "BACKEND_RATE_LIMITED");
  EXPECT_THAT(std::string(error->message()), HasSubstr("HTTP 429"));
}

TEST(MakeTokenSourceTest, ClientSecretMustBeText) {
  char dir[] = "/tmp/certbridge-secret.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/secret";
  std::ofstream(path, std::ios::binary) << std::string("s3c\xff\xfe\x01r", 7);
  BackendConfig config;
  config.name = "lee";
  config.kind = "leegality";
  config.base_url = "http://lee.test/api";
  config.credentials.source = CredentialsConfig::Source::kClientCredentials;
  config.credentials.client_id = "id";
  config.credentials.client_secret_file = path;
  testing::FakeTransport transport;
  auto source =
      MakeTokenSource(config, BuiltinVendor("leegality"), transport, nullptr);
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(std::string(source.status().message()),
              HasSubstr("client secret must be UTF-8"));
  EXPECT_THAT(std::string(source.status().message()), Not(HasSubstr("s3c")));
  std::filesystem::remove_all(dir);
}

TEST_F(ClientCredentialsTest, RefusedCredentialsFailWithoutTheSecret) {
  auto source = Make();
  std::optional<absl::Status> error;
  source->GetToken(AnyCall(),
                   [&](absl::StatusOr<std::string> t) { error = t.status(); });
  ASSERT_TRUE(transport_.Respond(
      401,
      R"({"error":"unauthorized_client","error_description":"Bad credentials for s3cr3t&=value"})"));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetErrorInfo(*error)->reason, reason::kBackendAuthFailed);
  EXPECT_THAT(std::string(error->message()), Not(HasSubstr("s3cr3t")));
  EXPECT_EQ(observer_.failed_, 1);
}

TEST_F(ClientCredentialsTest, A401RefreshesTheTokenAndResendsOnce) {
  auto source = Make();
  LeegalityStub stub(config_, transport_, source);
  v1::GetCertificateRequest req;
  req.set_name(
      "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc");
  auto ctx =
      std::make_shared<CallContext>(absl::Now() + absl::Seconds(30), "r");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(
      ctx, testing::KeptName(req.name()), req,
      [&](absl::StatusOr<v1::Certificate> r) { out = std::move(r); });
  ASSERT_TRUE(transport_.Respond(200, R"({"token":"old"})"));
  ASSERT_TRUE(transport_.Respond(401, R"({"code":"LE_ERR_SS_401"})"));
  ASSERT_TRUE(transport_.Respond(200, R"({"token":"new"})"));
  ASSERT_EQ(transport_.requests().size(), 4u);
  bool new_token = false;
  for (const auto& [k, v] : transport_.requests()[3].headers) {
    new_token = new_token || (k == "X-Auth-Token" && v == "new");
  }
  EXPECT_TRUE(new_token);
  ASSERT_TRUE(transport_.Respond(
      200, R"({"id":"46d4e120-ed03-47cc-98c6-529bff3bbabc","name":"n"})"));
  ASSERT_TRUE(out->ok()) << out->status();
}

TEST_F(ClientCredentialsTest, A401WithNoNewerTokenIsNotResent) {
  LeegalityStub stub(config_, transport_, MakeStaticTokenSource("static"));
  v1::GetCertificateRequest req;
  req.set_name(
      "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc");
  auto ctx =
      std::make_shared<CallContext>(absl::Now() + absl::Seconds(30), "r");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(
      ctx, testing::KeptName(req.name()), req,
      [&](absl::StatusOr<v1::Certificate> r) { out = std::move(r); });
  ASSERT_TRUE(transport_.Respond(401, R"({"code":"LE_ERR_SS_401"})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(GetErrorInfo(out->status())->reason, reason::kBackendAuthFailed);
  EXPECT_EQ(transport_.requests().size(), 1u);
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

// Issue 11 finding 12: a token file every user can read is called out.
TEST(MakeTokenSourceTest, WorldReadableTokenFileIsWarnedAbout) {
  char dir[] = "/tmp/certbridge-perm.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/token";
  std::ofstream(path) << "tok";
  std::vector<std::string> lines;
  Logger::Get().SetSink(
      [&](absl::string_view line) { lines.emplace_back(line); });
  BackendConfig config;
  config.name = "lee";
  config.credentials.source = CredentialsConfig::Source::kFile;
  config.credentials.token_file = path;
  testing::FakeTransport transport;
  chmod(path.c_str(), 0644);
  ASSERT_TRUE(
      MakeTokenSource(config, BuiltinVendor("leegality"), transport, nullptr)
          .ok());
  chmod(path.c_str(), 0400);
  ASSERT_TRUE(
      MakeTokenSource(config, BuiltinVendor("leegality"), transport, nullptr)
          .ok());
  Logger::Get().SetSink(nullptr);
  int warnings = 0;
  for (const auto& line : lines) {
    warnings += line.find("readable by every user") != std::string::npos;
  }
  EXPECT_EQ(warnings, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace certbridge
