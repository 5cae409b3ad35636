// certbridge -> backend over HTTPS with verification on: the emulator
// serving HTTPS with a certificate from a CA made at test time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "server/http/curl_transport.h"
#include "tests/emulator/test_pki.h"
#include "tests/integration/certbridge_harness.h"

namespace certbridge::testing {
namespace {

class BackendTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = emulator::MakeTestPki();
    char dir[] = "/tmp/certbridge-btls.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    ASSERT_TRUE(emulator::WritePkiFiles(pki_, dir_).ok());
    emulator::EmulatorOptions options;
    options.tls_cert_file = dir_ + "/server.pem";
    options.tls_key_file = dir_ + "/server.key";
    auto e = emulator::Emulator::Start(options);
    ASSERT_TRUE(e.ok()) << e.status();
    https_ = *std::move(e);
    ASSERT_EQ(https_->base_url().rfind("https://", 0), 0u);
  }
  void TearDown() override {
    h_.reset();
    https_.reset();
    const std::string cmd = "rm -rf " + dir_;
    (void)std::system(cmd.c_str());
  }

  // A server whose Leegality backend is the HTTPS emulator, trusting
  // `ca_file` ("" = the system store).
  void Start(const std::string& ca_file) {
    HarnessOptions o;
    o.configure = [this, ca_file](ServerConfig& c) {
      c.backends[0].base_url = https_->base_url();
      c.backends[0].ca_file = ca_file;
      c.backends[0].retry.max_attempts = 1;
      // Loading the system store parses every certificate in it, inside the
      // connect phase: a moment normally, seconds under ASan's slow
      // unwinder. These tests are about verification, not timing.
      c.backends[0].connect_timeout = absl::Seconds(60);
    };
    h_ = Harness::Start(o);
    ASSERT_NE(h_, nullptr);
  }

  grpc::Status Create(v1::Certificate* out) {
    auto ctx = Harness::Context(absl::Seconds(60));
    return h_->stub().CreateCertificate(ctx.get(),
                                        LeegalityCreateRequest("tls.p12"), out);
  }

  emulator::TestPki pki_;
  std::string dir_;
  std::unique_ptr<emulator::Emulator> https_;
  std::unique_ptr<Harness> h_;
};

TEST_F(BackendTlsTest, VerifiedHttpsWithTheConfiguredCa) {
  Start(dir_ + "/ca.pem");
  v1::Certificate created;
  const grpc::Status s = Create(&created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetCertificateRequest r;
  r.set_name(created.name());
  v1::Certificate got;
  auto ctx = Harness::Context();
  ASSERT_TRUE(h_->stub().GetCertificate(ctx.get(), r, &got).ok());
  EXPECT_EQ(https_->leegality().size(), 1u);
  EXPECT_EQ(https_->handshake_failures(), 0);
}

TEST_F(BackendTlsTest, UntrustedBackendCertificateIsATlsError) {
  const emulator::TestPki other = emulator::MakeTestPki();
  const std::string other_ca = dir_ + "/other-ca.pem";
  std::ofstream(other_ca) << other.ca_pem;
  for (const std::string& ca : {other_ca, std::string()}) {
    Start(ca);
    v1::Certificate out;
    RpcError e = DecodeRpcError(Create(&out));
    EXPECT_EQ(e.code, grpc::StatusCode::INTERNAL) << e.message;
    EXPECT_EQ(e.reason, "BACKEND_TLS_ERROR") << e.message;
  }
  EXPECT_TRUE(https_->Requests().empty())
      << "nothing was sent to an unverified peer";
  // The emulator counts a failed handshake on its own thread, which can run
  // after the client already reported the failure.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (https_->handshake_failures() < 2 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));  // polling, bounded by give_up
  }
  EXPECT_GE(https_->handshake_failures(), 2);
}

// A private store laid out as OpenSSL's CApath expects (<hash>.0 files).
std::string MakeHashedStore(const std::string& dir, const std::string& ca_pem) {
  const std::string store = dir + "/store";
  std::filesystem::create_directories(store);
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  const std::string name =
      absl::StrFormat("%08lx.0", X509_subject_name_hash(ca));
  X509_free(ca);
  std::ofstream(store + "/" + name) << ca_pem;
  return store;
}

HttpResult Exchange(HttpTransport& transport, HttpRequest request) {
  // The 5 s default connect timeout covers the TLS handshake, which under
  // ASan on a loaded 2-core machine took longer than that (CI, 2026-12-02).
  request.connect_timeout = absl::Seconds(60);
  request.timeout = absl::Seconds(60);
  std::promise<HttpResult> done;
  auto result = done.get_future();
  transport.Send(std::move(request),
                 [&done](HttpResult r) { done.set_value(std::move(r)); });
  return result.get();
}

// Issue 10 finding 20: a configured tls.ca_file replaces the system trust
// store; Debian's libcurl would otherwise also consult /etc/ssl/certs.
TEST_F(BackendTlsTest, ConfiguredCaReplacesTheSystemStore) {
  // A stand-in for the system store that trusts the emulator's CA.
  CurlTransportOptions options;
  options.system_ca_path = MakeHashedStore(dir_, pki_.ca_pem);
  auto transport = CurlTransport::Create(options);
  ASSERT_TRUE(transport.ok());
  HttpRequest request;
  request.method = "GET";
  request.url = https_->base_url() + "/__emulator/requests";
  // Control: with no ca_file, the "system store" is what verifies it.
  HttpResult trusted = Exchange(**transport, request);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(trusted))
      << std::get<TransportError>(trusted).message;
  // With a ca_file of another CA, the system store no longer counts.
  const emulator::TestPki other = emulator::MakeTestPki();
  const std::string other_ca = dir_ + "/other-ca.pem";
  std::ofstream(other_ca) << other.ca_pem;
  request.ca_file = other_ca;
  HttpResult refused = Exchange(**transport, request);
  ASSERT_TRUE(std::holds_alternative<TransportError>(refused));
  EXPECT_EQ(std::get<TransportError>(refused).kind,
            TransportErrorKind::kTlsVerification);
}

}  // namespace
}  // namespace certbridge::testing
