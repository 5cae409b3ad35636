// certbridge -> backend over HTTPS with verification on: a real TLS peer
// (the emulator behind a TLS front with a CA made at test time).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/test_pki.h"
#include "tests/testing/tls_proxy.h"

namespace certbridge::testing {
namespace {

class BackendTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = MakeTestCa("backend CA");
    server_ = IssueServerCertificate(ca_);
  }

  // tls_: a server whose Leegality backend is https://127.0.0.1:<proxy>,
  // trusting `ca_pem` ("" = the system store); plain_: the emulator behind
  // the TLS front.
  void Start(const std::string& ca_pem) {
    auto h = Harness::Start();
    if (h == nullptr) return;
    proxy_ = std::make_unique<TlsProxy>(server_.cert_pem, server_.key_pem,
                                        h->emulator().port());
    const std::string ca_file = h->temp_dir() + "/backend-ca.pem";
    if (!ca_pem.empty()) std::ofstream(ca_file) << ca_pem;
    const int port = proxy_->port();
    HarnessOptions o;
    // A second server on the same emulator, pointed at the TLS front.
    o.configure = [&](ServerConfig& c) {
      c.backends[0].base_url = absl::StrCat("https://127.0.0.1:", port);
      c.backends[0].ca_file = ca_pem.empty() ? "" : ca_file;
      c.backends[0].retry.max_attempts = 1;
    };
    tls_ = Harness::Start(o);
    plain_ = std::move(h);
  }

  grpc::Status Create(v1::Certificate* out) {
    auto ctx = Harness::Context();
    return tls_->stub().CreateCertificate(
        ctx.get(), LeegalityCreateRequest("tls.p12"), out);
  }

  TestCa ca_;
  KeyPair server_;
  std::unique_ptr<Harness> plain_;
  std::unique_ptr<TlsProxy> proxy_;
  std::unique_ptr<Harness> tls_;
};

TEST_F(BackendTlsTest, VerifiedHttpsWithTheConfiguredCa) {
  Start(ca_.ca.cert_pem);
  ASSERT_NE(tls_, nullptr);
  v1::Certificate created;
  const grpc::Status s = Create(&created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetCertificateRequest r;
  r.set_name(created.name());
  v1::Certificate got;
  auto ctx = Harness::Context();
  ASSERT_TRUE(tls_->stub().GetCertificate(ctx.get(), r, &got).ok());
  // It really went through the TLS front to the emulator.
  EXPECT_EQ(plain_->emulator().leegality().size(), 1u);
  EXPECT_EQ(proxy_->handshake_failures(), 0);
}

TEST_F(BackendTlsTest, UntrustedBackendCertificateIsATlsError) {
  const TestCa other = MakeTestCa("not the backend's CA");
  for (const std::string& ca : {other.ca.cert_pem, std::string()}) {
    Start(ca);
    ASSERT_NE(tls_, nullptr);
    v1::Certificate out;
    RpcError e = DecodeRpcError(Create(&out));
    EXPECT_EQ(e.code, grpc::StatusCode::INTERNAL) << e.message;
    EXPECT_EQ(e.reason, "BACKEND_TLS_ERROR") << e.message;
    EXPECT_EQ(plain_->emulator().Requests().size(), 0u)
        << "nothing was sent to an unverified peer";
    EXPECT_GE(proxy_->handshake_failures(), 1);
    tls_.reset();
    proxy_.reset();
    plain_.reset();
  }
}

}  // namespace
}  // namespace certbridge::testing
