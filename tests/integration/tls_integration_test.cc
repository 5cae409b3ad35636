// The gRPC listener over TLS and mTLS: certificate files reloaded when they
// change, and the caller allow-list (URI SAN / DNS SAN) enforced with
// PERMISSION_DENIED.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/emulator/test_pki.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

constexpr char kAllowedUri[] = "spiffe://certbridge.test/ns/apps/sa/caller";
constexpr char kMissing[] =
    "backends/leegality/certificates/0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";

using emulator::IssuedCertificate;
using emulator::TestPki;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = emulator::MakeTestPki();
    const IssuedCertificate server = {ca_.server_cert_pem, ca_.server_key_pem};
    char dir[] = "/tmp/certbridge-tls.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    WriteFileAtomically(dir_ + "/server.pem", server.cert_pem);
    WriteFileAtomically(dir_ + "/server.key", server.key_pem);
    WriteFileAtomically(dir_ + "/ca.pem", ca_.ca_pem);
  }
  void TearDown() override {
    h_.reset();
    std::string cmd = "rm -rf " + dir_;
    (void)std::system(cmd.c_str());
  }

  void Start(bool mtls, std::vector<std::string> allowed = {}) {
    HarnessOptions o;
    o.configure = [this, mtls, allowed](ServerConfig& c) {
      c.tls.cert_file = dir_ + "/server.pem";
      c.tls.key_file = dir_ + "/server.key";
      if (mtls) c.tls.client_ca_file = dir_ + "/ca.pem";
      c.tls.allowed_callers = allowed;
      c.tls.reload_interval = absl::Seconds(1);
    };
    h_ = Harness::Start(o);
    ASSERT_NE(h_, nullptr);
  }

  grpc::Status Call(const std::shared_ptr<grpc::ChannelCredentials>& creds) {
    auto channel = grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", h_->server().port()), creds);
    auto stub = v1::CertificateService::NewStub(channel);
    v1::GetCertificateRequest r;
    r.set_name(kMissing);
    v1::Certificate out;
    auto ctx = Harness::Context(absl::Seconds(5));
    return stub->GetCertificate(ctx.get(), r, &out);
  }

  static std::shared_ptr<grpc::ChannelCredentials> Tls(
      const std::string& root, const IssuedCertificate* client = nullptr) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = root;
    if (client != nullptr) {
      o.pem_cert_chain = client->cert_pem;
      o.pem_private_key = client->key_pem;
    }
    return grpc::SslCredentials(o);
  }

  TestPki ca_;
  std::string dir_;
  std::unique_ptr<Harness> h_;
};

TEST_F(TlsTest, ServesTlsAndRefusesPlaintext) {
  Start(/*mtls=*/false);
  // NOT_FOUND comes from the backend: the call went all the way through.
  EXPECT_EQ(Call(Tls(ca_.ca_pem)).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call(grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  const TestPki other = emulator::MakeTestPki();
  EXPECT_EQ(Call(Tls(other.ca_pem)).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "the client must verify the server";
}

TEST_F(TlsTest, MutualTlsWithAllowList) {
  Start(/*mtls=*/true, {kAllowedUri, "dns:ops-tool.certbridge.test"});
  const IssuedCertificate allowed =
      emulator::IssueClientCertificate(ca_, kAllowedUri);
  const IssuedCertificate allowed_dns =
      emulator::IssueClientCertificate(ca_, "", "ops-tool.certbridge.test");
  const IssuedCertificate stranger = emulator::IssueClientCertificate(
      ca_, "spiffe://certbridge.test/ns/apps/sa/other");
  const TestPki rogue_ca = emulator::MakeTestPki();
  const IssuedCertificate rogue =
      emulator::IssueClientCertificate(rogue_ca, kAllowedUri);

  EXPECT_EQ(Call(Tls(ca_.ca_pem, &allowed)).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call(Tls(ca_.ca_pem, &allowed_dns)).error_code(),
            grpc::StatusCode::NOT_FOUND);
  const grpc::Status denied = Call(Tls(ca_.ca_pem, &stranger));
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(DecodeRpcError(denied).reason, "CALLER_NOT_ALLOWED");
  EXPECT_THAT(
      denied.error_message(),
      ::testing::HasSubstr("spiffe://certbridge.test/ns/apps/sa/other"));
  // No client certificate, or one from another CA: the handshake fails.
  EXPECT_EQ(Call(Tls(ca_.ca_pem)).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(Tls(ca_.ca_pem, &rogue)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // The denied and failed calls never reached the backend.
  EXPECT_EQ(h_->emulator().Requests().size(), 2u);
}

TEST_F(TlsTest, RotatedServerCertificateIsServedWithoutRestart) {
  Start(/*mtls=*/false);
  ASSERT_EQ(Call(Tls(ca_.ca_pem)).error_code(), grpc::StatusCode::NOT_FOUND);
  const TestPki next_ca = emulator::MakeTestPki();
  WriteFileAtomically(dir_ + "/server.key", next_ca.server_key_pem);
  WriteFileAtomically(dir_ + "/server.pem", next_ca.server_cert_pem);
  // gRPC re-reads the files every reload_interval (1 s here).
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  for (int i = 0; i < 40 && code != grpc::StatusCode::NOT_FOUND; ++i) {
    absl::SleepFor(absl::Milliseconds(250));
    code = Call(Tls(next_ca.ca_pem)).error_code();
  }
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call(Tls(ca_.ca_pem)).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "the old certificate is no longer served";
}

}  // namespace
}  // namespace certbridge::testing
