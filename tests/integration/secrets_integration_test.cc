// Secrets stay secret (metrics.md "Logs"): for calls with a wrong passkey,
// a bad token, failing backends (even ones that echo what they received)
// and timeouts, no passkey, token, client secret or certificate bytes
// appear in logs, error messages, error details or metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"
#include "server/common/log.h"
#include "server/common/redact.h"
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

namespace certbridge::testing {
namespace {

std::string Hex(absl::string_view s, bool upper = false) {
  std::string h = absl::BytesToHexString(s);
  return upper ? absl::AsciiStrToUpper(h) : h;
}

// Every spelling of a secret a hostile backend could echo.
std::vector<std::string> Spellings(const std::string& secret) {
  return {secret, absl::Base64Escape(secret), absl::WebSafeBase64Escape(secret),
          Hex(secret), Hex(secret, true)};
}

// Issue 10 findings 3 and 4, deliverable 3: backends that echo each secret,
// in each encoding, in every status the vendors use -- 400, 401, 403, 404,
// 409, 429, 500 and Apinizer's 200 with status FAILURE -- and a token
// endpoint that echoes the client secret. Nothing of it reaches the caller
// (message or details), the log or the metrics.
TEST_F(SecretsTest, EchoedSecretsAreRedactedInEveryStatusAndEncoding) {
  constexpr char kStaticToken[] = "static-SECRET-tok-51c0";
  constexpr char kApiSecret[] = "api-SECRET-cs-0e77";
  setenv("CERTBRIDGE_ECHO_STATIC_TOKEN", kStaticToken, 1);
  setenv("CERTBRIDGE_ECHO_CLIENT_SECRET", kApiSecret, 1);
  HarnessOptions options;
  options.configure = [](ServerConfig& c) {
    c.metrics_address = "127.0.0.1:0";
    for (auto& b : c.backends) b.retry.max_attempts = 1;
    // A static token the emulator does not know, so the 401 path with no
    // newer token to try (finding 3) is reached too.
    BackendConfig fixed = c.backends[0];
    fixed.name = "fixed";
    fixed.credentials.source = CredentialsConfig::Source::kEnv;
    fixed.credentials.token_env = "CERTBRIDGE_ECHO_STATIC_TOKEN";
    c.backends.push_back(fixed);
    BackendConfig cc = c.backends[1];
    cc.name = "apicc";
    cc.credentials.source = CredentialsConfig::Source::kClientCredentials;
    cc.credentials.client_id = "emulator-client";
    cc.credentials.client_secret_env = "CERTBRIDGE_ECHO_CLIENT_SECRET";
    c.backends.push_back(cc);
  };
  auto h = Harness::Start(options);
  ASSERT_NE(h, nullptr);
  const std::string api_token = emulator::EmulatorOptions().apinizer_token;

  auto lee = LeegalityCreateRequest("echo.p12", kPasskey);
  lee.set_parent("backends/fixed");
  const std::string pkcs12 = lee.certificate().leegality().pkcs12_file();
  const std::string pkcs12_b64 = absl::Base64Escape(pkcs12);

  CertificateOptions pem_options;
  pem_options.common_name = "echoed-root";
  const std::string pem = MakePemCertificate(pem_options);
  v1::CreateCertificateRequest api;
  api.set_parent("backends/apinizer/projects/Payments");
  api.set_certificate_id("echoed-root");
  api.mutable_certificate()->mutable_apinizer()->set_alias("echoed-root");
  api.mutable_certificate()->mutable_apinizer()->add_environments("prod");
  api.mutable_certificate()->mutable_apinizer()->set_pem_certificate(pem);

  // What each echo carries -- what that backend was handed; one echo per
  // call, as vendor messages are cut.
  std::vector<std::string> lee_echoes;
  for (const std::string& secret :
       {std::string(kPasskey), std::string(kStaticToken)}) {
    for (std::string& s : Spellings(secret)) lee_echoes.push_back(s);
  }
  lee_echoes.push_back(pkcs12_b64.substr(0, 400));
  lee_echoes.push_back(pkcs12_b64.substr(pkcs12_b64.size() / 2, 200));
  lee_echoes.push_back(Hex(pkcs12.substr(0, 150)));
  lee_echoes.push_back("-----BEGIN PKCS12-----\n" + pkcs12_b64.substr(0, 300));
  std::vector<std::string> api_echoes = Spellings(api_token);
  api_echoes.push_back(pem);
  api_echoes.push_back(pem.substr(28, 200));  // the base64 body alone

  int calls = 0;
  auto call = [&](const v1::CreateCertificateRequest& r) {
    v1::Certificate out;
    auto ctx = Harness::Context();
    grpc::Status s = h->stub().CreateCertificate(ctx.get(), r, &out);
    Capture(s);
    ++calls;
    return s;
  };
  for (int status : {400, 401, 403, 404, 409, 429, 500}) {
    for (const std::string& echo : lee_echoes) {
      emulator::FaultSpec f;
      f.method = "POST";
      f.path_prefix = "/api/v1/certificates";
      f.status = status;
      // The echo in the message and, where it fits, the code.
      f.body =
          nlohmann::json{{"code", echo.size() <= 64
                                      ? echo
                                      : "LE_ERR_SS_" + std::to_string(status)},
                         {"errors",
                          {{{"message", "rejected: " + echo},
                            {"code", echo.substr(0, 30)}}}}}
              .dump();
      h->emulator().AddFault(f);
      EXPECT_FALSE(call(lee).ok());
    }
  }
  for (int status : {400, 401, 500, 200}) {
    for (const bool legacy : {false, true}) {
      for (const std::string& echo : api_echoes) {
        emulator::FaultSpec f;
        f.method = "POST";
        f.path_prefix = "/apiops/projects/";
        f.status = status;
        f.body = legacy ? nlohmann::json{{"error", "bad_request"},
                                         {"error_description", echo}}
                              .dump()
                        : nlohmann::json{{"status", "FAILURE"},
                                         {"resultMessage", echo}}
                              .dump();
        h->emulator().AddFault(f);
        EXPECT_FALSE(call(api).ok());
      }
    }
  }
  // The token endpoint echoing the client secret, refusing and failing.
  auto cc = api;
  cc.set_parent("backends/apicc/projects/Payments");
  for (int status : {400, 401, 500}) {
    for (const std::string& echo : Spellings(kApiSecret)) {
      emulator::FaultSpec f;
      f.method = "POST";
      f.path_prefix = "/apiops/auth/token";
      f.status = status;
      f.body = nlohmann::json{{"error", "invalid_client"},
                              {"error_description", "bad secret " + echo}}
                   .dump();
      h->emulator().AddFault(f);
      EXPECT_FALSE(call(cc).ok());
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    captured_ += h->server().metrics().Serialize();
    // Positive control: the capture holds every call's access line.
    size_t access_lines = 0;
    for (size_t at = captured_.find("\"msg\":\"rpc\""); at != std::string::npos;
         at = captured_.find("\"msg\":\"rpc\"", at + 1)) {
      ++access_lines;
    }
    EXPECT_EQ(access_lines, static_cast<size_t>(calls));
    EXPECT_NE(captured_.find(kRedacted), std::string::npos);
    std::vector<std::string> forbidden;
    for (const std::string& secret :
         {std::string(kPasskey), std::string(kStaticToken), api_token,
          std::string(kApiSecret)}) {
      for (std::string& s : Spellings(secret)) forbidden.push_back(s);
    }
    for (size_t at = 0; at + 32 <= 600; at += 100) {
      forbidden.push_back(pkcs12_b64.substr(at, 32));
    }
    forbidden.push_back(pkcs12_b64.substr(pkcs12_b64.size() / 2 + 50, 32));
    forbidden.push_back(Hex(pkcs12.substr(20, 24)));
    forbidden.push_back(pem.substr(40, 32));
    forbidden.push_back(pem.substr(pem.size() / 2, 32));
    for (const std::string& f : forbidden) {
      const size_t at = captured_.find(f);
      EXPECT_EQ(at, std::string::npos)
          << f << " in: "
          << (at == std::string::npos
                  ? ""
                  : captured_.substr(at < 200 ? 0 : at - 200, 300));
    }
  }
}

}  // namespace
}  // namespace certbridge::testing
