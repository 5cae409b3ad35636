// Backend credentials against the emulator's token endpoints: tokens cached
// and shared (one token request for many calls), refreshed before they
// expire, refreshed once after a 401, and token files re-read on rotation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "tests/integration/certbridge_harness.h"

namespace certbridge::testing {
namespace {

constexpr char kMissing[] =
    "backends/leegality/certificates/0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";

HarnessOptions ClientCredentials(const std::string& secret) {
  setenv("CERTBRIDGE_IT_CLIENT_SECRET", secret.c_str(), 1);
  HarnessOptions o;
  o.configure = [](ServerConfig& c) {
    for (auto& b : c.backends) {
      b.credentials.source = CredentialsConfig::Source::kClientCredentials;
      b.credentials.client_id = emulator::EmulatorOptions().leegality_client_id;
      b.credentials.client_secret_env = "CERTBRIDGE_IT_CLIENT_SECRET";
    }
  };
  return o;
}

grpc::Status Get(Harness& h, const std::string& name) {
  v1::GetCertificateRequest r;
  r.set_name(name);
  v1::Certificate out;
  auto ctx = Harness::Context();
  return h.stub().GetCertificate(ctx.get(), r, &out);
}

int Count401(Harness& h) {
  int n = 0;
  for (const auto& r : h.emulator().Requests()) n += r.status == 401;
  return n;
}

TEST(CredentialsTest, ManyConcurrentCallsShareOneTokenRequest) {
  auto h = Harness::Start(
      ClientCredentials(emulator::EmulatorOptions().leegality_client_secret));
  ASSERT_NE(h, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> not_found{0};
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&] {
      if (Get(*h, kMissing).error_code() == grpc::StatusCode::NOT_FOUND) {
        not_found++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(not_found.load(), 32) << "every call authenticated";
  EXPECT_EQ(h->emulator().leegality_tokens().token_requests(), 1);
  EXPECT_EQ(Count401(*h), 0);
  // The token request was the documented JSON one.
  bool json_request = false;
  for (const auto& r : h->emulator().Requests()) {
    if (r.path == "/api/v1/auth/token") {
      json_request =
          absl::StrContains(r.body, "\"clientId\"") &&
          absl::StartsWith(r.headers.at("content-type"), "application/json");
    }
  }
  EXPECT_TRUE(json_request);
}

TEST(CredentialsTest, TokenIsRefreshedBeforeItExpires) {
  auto h = Harness::Start(
      ClientCredentials(emulator::EmulatorOptions().leegality_client_secret));
  ASSERT_NE(h, nullptr);
  // 6 s tokens: refreshed 5 s before expiry, i.e. after about 1 s. Calls
  // keep coming until the refresh is seen (at most 30 s).
  h->emulator().leegality_tokens().SetTokenLifetime(absl::Seconds(6));
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (h->emulator().leegality_tokens().token_requests() < 2 &&
         absl::Now() < give_up) {
    EXPECT_EQ(Get(*h, kMissing).error_code(), grpc::StatusCode::NOT_FOUND);
    // Time, not synchronisation: the token has to age past its refresh
    // point; these calls are spread over that time.
    absl::SleepFor(absl::Milliseconds(250));
  }
  EXPECT_GE(h->emulator().leegality_tokens().token_requests(), 2);
  EXPECT_EQ(Count401(*h), 0) << "never used an expired token";
}

TEST(CredentialsTest, A401RefreshesTheTokenOnceAndTheCallSucceeds) {
  auto h = Harness::Start(
      ClientCredentials(emulator::EmulatorOptions().leegality_client_secret));
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(Get(*h, kMissing).error_code(), grpc::StatusCode::NOT_FOUND);
  h->emulator().leegality_tokens().RevokeIssuedTokens();
  EXPECT_EQ(Get(*h, kMissing).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(h->emulator().leegality_tokens().token_requests(), 2);
  EXPECT_EQ(Count401(*h), 1);
}

TEST(CredentialsTest, ApinizerClientCredentialsAreFormEncoded) {
  auto h = Harness::Start(
      ClientCredentials(emulator::EmulatorOptions().apinizer_client_secret));
  ASSERT_NE(h, nullptr);
  v1::GetCertificateRequest r;
  r.set_name("backends/apinizer/projects/Payments/certificates/none");
  v1::Certificate out;
  auto ctx = Harness::Context();
  EXPECT_EQ(h->stub().GetCertificate(ctx.get(), r, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(h->emulator().apinizer_tokens().token_requests(), 1);
  for (const auto& rec : h->emulator().Requests()) {
    if (rec.path == "/apiops/auth/token") {
      EXPECT_THAT(rec.body,
                  ::testing::HasSubstr("grant_type=client_credentials"));
      EXPECT_EQ(rec.headers.at("content-type"),
                "application/x-www-form-urlencoded");
    }
  }
}

TEST(CredentialsTest, RefusedClientCredentialsAreBackendAuthFailed) {
  auto h = Harness::Start(ClientCredentials("not-the-secret"));
  ASSERT_NE(h, nullptr);
  const grpc::Status s = Get(*h, kMissing);
  RpcError e = DecodeRpcError(s);
  EXPECT_EQ(e.code, grpc::StatusCode::INTERNAL);
  EXPECT_EQ(e.reason, "BACKEND_AUTH_FAILED");
  EXPECT_THAT(s.error_message(),
              ::testing::Not(::testing::HasSubstr("not-the-secret")));
}

TEST(CredentialsTest, RotatedTokenFileIsUsedWithoutRestart) {
  auto h = Harness::Start();
  ASSERT_NE(h, nullptr);
  const std::string file = h->config().backends[0].credentials.token_file;
  WriteFileAtomically(file, "revoked-token\n");
  // Within the 1 s check interval the old token is used; once the file is
  // seen to change (at the latest right after the 401) the new one is.
  // Time, not synchronisation: the 1 s check interval has to pass.
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_EQ(Get(*h, kMissing).error_code(), grpc::StatusCode::INTERNAL);
  WriteFileAtomically(file, emulator::EmulatorOptions().leegality_token);
  // Time again: the periodic check (not only the 401) picks the file up.
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_EQ(Get(*h, kMissing).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace certbridge::testing
