// Secrets stay secret (metrics.md "Logs"): for calls with a wrong passkey,
// a bad token, failing backends (even ones that echo what they received)
// and timeouts, no passkey, token, client secret or certificate bytes
// appear in logs, error messages, error details or metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>

#include "absl/strings/escaping.h"
#include "server/common/log.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

constexpr char kPasskey[] = "pk-SECRET-6a1f";
constexpr char kWrongToken[] = "tok-SECRET-93bd";
constexpr char kClientSecret[] = "cs-SECRET-77e2";

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Logger::Get().SetLevel(LogLevel::kDebug);
    Logger::Get().SetSink([this](absl::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      captured_.append(line.data(), line.size()).push_back('\n');
    });
  }
  void TearDown() override {
    Logger::Get().SetSink(nullptr);
    Logger::Get().SetLevel(LogLevel::kInfo);
  }

  void Capture(const grpc::Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    captured_ += s.error_message() + "\n" + s.error_details() + "\n";
  }

  // Every secret, and recognisable pieces of the certificate bytes in raw
  // and base64 form.
  void ExpectNoSecrets(const std::string& pkcs12) {
    std::lock_guard<std::mutex> lock(mu_);
    // Positive controls: the capture holds the access lines, the echoed
    // vendor text (redacted) and the metrics, so absence below means
    // something.
    size_t access_lines = 0;
    for (size_t at = captured_.find("\"msg\":\"rpc\""); at != std::string::npos;
         at = captured_.find("\"msg\":\"rpc\"", at + 1)) {
      ++access_lines;
    }
    EXPECT_EQ(access_lines, 7u);
    EXPECT_NE(captured_.find("bad passkey [REDACTED] for token [REDACTED]"),
              std::string::npos);
    EXPECT_NE(captured_.find("grpc_server_handled_total"), std::string::npos);
    for (const std::string& secret :
         {std::string(kPasskey), std::string(kWrongToken),
          std::string(kClientSecret),
          emulator::EmulatorOptions().leegality_token,
          emulator::EmulatorOptions().apinizer_token}) {
      EXPECT_EQ(captured_.find(secret), std::string::npos) << secret;
    }
    const std::string raw = pkcs12.substr(pkcs12.size() / 2, 24);
    EXPECT_EQ(captured_.find(raw), std::string::npos) << "certificate bytes";
    const std::string b64 = absl::Base64Escape(pkcs12);
    EXPECT_EQ(captured_.find(b64.substr(b64.size() / 2, 32)), std::string::npos)
        << "base64 certificate bytes";
  }

  std::mutex mu_;
  std::string captured_;
};

TEST_F(SecretsTest, NothingLeaksOnAnyFailurePath) {
  setenv("CERTBRIDGE_SECRETS_WRONG_TOKEN", kWrongToken, 1);
  setenv("CERTBRIDGE_SECRETS_CLIENT_SECRET", kClientSecret, 1);
  HarnessOptions options;
  options.configure = [](ServerConfig& c) {
    c.metrics_address = "127.0.0.1:0";
    BackendConfig bad = c.backends[0];
    bad.name = "badtoken";
    bad.credentials.source = CredentialsConfig::Source::kEnv;
    bad.credentials.token_env = "CERTBRIDGE_SECRETS_WRONG_TOKEN";
    c.backends.push_back(bad);
    BackendConfig cc = c.backends[0];
    cc.name = "clientcreds";
    cc.credentials.source = CredentialsConfig::Source::kClientCredentials;
    cc.credentials.client_id = "nobody";
    cc.credentials.client_secret_env = "CERTBRIDGE_SECRETS_CLIENT_SECRET";
    c.backends.push_back(cc);
    for (auto& b : c.backends) b.retry.max_attempts = 1;
  };
  auto h = Harness::Start(options);
  ASSERT_NE(h, nullptr);
  auto request = LeegalityCreateRequest("secret.p12", kPasskey);
  const std::string pkcs12 = request.certificate().leegality().pkcs12_file();
  v1::Certificate out;
  auto call = [&](const v1::CreateCertificateRequest& r,
                  absl::Duration timeout = absl::Seconds(10)) {
    auto ctx = Harness::Context(timeout);
    grpc::Status s = h->stub().CreateCertificate(ctx.get(), r, &out);
    Capture(s);
    return s;
  };

  // 1. Wrong passkey: refused locally.
  auto wrong = request;
  wrong.mutable_certificate()->mutable_leegality()->set_passkey(
      std::string(kPasskey) + "-wrong");
  EXPECT_EQ(call(wrong).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // 2. A backend that echoes the token and passkey in its error message.
  h->emulator().AddFault([&] {
    emulator::FaultSpec f;
    f.method = "POST";
    f.status = 400;
    f.body = emulator::LeegalityErrorBody(
        400, "LE_ERR_SS_400", "",
        std::string("bad passkey ") + kPasskey + " for token " +
            emulator::EmulatorOptions().leegality_token);
    return f;
  }());
  EXPECT_EQ(call(request).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // 3. 500 with an echoing body, and a malformed success body.
  h->emulator().AddFault([&] {
    emulator::FaultSpec f;
    f.method = "POST";
    f.status = 500;
    f.body =
        std::string("{\"code\":\"LE_ERR_SS_500\",\"errors\":[{\"message\":\"") +
        kPasskey + "\"}]}";
    return f;
  }());
  EXPECT_EQ(call(request).error_code(), grpc::StatusCode::INTERNAL);
  // 4. Timeout.
  h->emulator().AddFault([] {
    emulator::FaultSpec f;
    f.method = "POST";
    f.delay_ms = 2000;
    return f;
  }());
  EXPECT_EQ(call(request, absl::Milliseconds(300)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  // 5. Bad token (the emulator answers 401).
  auto bad_token = request;
  bad_token.set_parent("backends/badtoken");
  EXPECT_EQ(call(bad_token).error_code(), grpc::StatusCode::INTERNAL);
  // 6. Client credentials the token endpoint refuses.
  auto cc = request;
  cc.set_parent("backends/clientcreds");
  EXPECT_EQ(call(cc).error_code(), grpc::StatusCode::INTERNAL);
  // 7. And a success, whose access line must not carry the upload either.
  EXPECT_TRUE(call(request).ok());

  {
    std::lock_guard<std::mutex> lock(mu_);
    captured_ += h->server().metrics().Serialize();
  }
  ExpectNoSecrets(pkcs12);
}

}  // namespace
}  // namespace certbridge::testing
