// The gRPC listener over TLS and mTLS: certificate files reloaded when they
// change, and the caller allow-list (URI SAN / DNS SAN) enforced with
// PERMISSION_DENIED.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "server/app/tls_files.h"
#include "server/common/log.h"
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

// Issue 11 findings 2 and 12: with TLS on the main listener, probes use a
// plaintext health-only listener; health and reflection on the main
// listener obey the allow-list like everything else.
TEST_F(TlsTest, ProbesUseAPlaintextHealthListenerAndTheAllowListCoversAll) {
  HarnessOptions o;
  o.configure = [this](ServerConfig& c) {
    c.tls.cert_file = dir_ + "/server.pem";
    c.tls.key_file = dir_ + "/server.key";
    c.tls.client_ca_file = dir_ + "/ca.pem";
    c.tls.allowed_callers = {kAllowedUri};
    c.health_listen_address = "127.0.0.1:0";
  };
  h_ = Harness::Start(o);
  ASSERT_NE(h_, nullptr);
  ASSERT_GT(h_->server().health_port(), 0);
  auto check = [](const std::string& target,
                  const std::shared_ptr<grpc::ChannelCredentials>& creds,
                  const std::string& service) {
    auto health =
        grpc::health::v1::Health::NewStub(grpc::CreateChannel(target, creds));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    auto ctx = Harness::Context(absl::Seconds(5));
    grpc::Status s = health->Check(ctx.get(), req, &resp);
    return std::make_pair(s.error_code(), resp.status());
  };
  const std::string health_target =
      absl::StrCat("127.0.0.1:", h_->server().health_port());
  const std::string main_target =
      absl::StrCat("127.0.0.1:", h_->server().port());
  // What the kubelet's native gRPC probe does: plaintext Health/Check.
  for (const char* service : {"", "certbridge.v1.CertificateService"}) {
    auto [code, status] =
        check(health_target, grpc::InsecureChannelCredentials(), service);
    EXPECT_EQ(code, grpc::StatusCode::OK) << service;
    EXPECT_EQ(status, grpc::health::v1::HealthCheckResponse::SERVING);
  }
  // The health listener serves nothing else.
  auto stub = v1::CertificateService::NewStub(
      grpc::CreateChannel(health_target, grpc::InsecureChannelCredentials()));
  v1::GetCertificateRequest r;
  r.set_name(kMissing);
  v1::Certificate out;
  auto ctx = Harness::Context(absl::Seconds(5));
  EXPECT_EQ(stub->GetCertificate(ctx.get(), r, &out).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  // On the main listener, health answers allowed callers only.
  const IssuedCertificate allowed =
      emulator::IssueClientCertificate(ca_, kAllowedUri);
  const IssuedCertificate stranger = emulator::IssueClientCertificate(
      ca_, "spiffe://certbridge.test/ns/apps/sa/other");
  EXPECT_EQ(check(main_target, Tls(ca_.ca_pem, &allowed), "").first,
            grpc::StatusCode::OK);
  EXPECT_EQ(check(main_target, Tls(ca_.ca_pem, &stranger), "").first,
            grpc::StatusCode::PERMISSION_DENIED);
  // Shutdown turns the probe listener NOT_SERVING too, for the whole drain
  // delay (time the probe needs; 5 s is plenty for a few ms of polling).
  std::thread shutdown(
      [this] { h_->server().Shutdown(absl::Seconds(5), absl::Seconds(1)); });
  // Poll the probe until it answers NOT_SERVING (or stops answering).
  std::pair<grpc::StatusCode,
            grpc::health::v1::HealthCheckResponse::ServingStatus>
      probe;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up) {
    probe = check(health_target, grpc::InsecureChannelCredentials(), "");
    if (probe.first != grpc::StatusCode::OK ||
        probe.second == grpc::health::v1::HealthCheckResponse::NOT_SERVING) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling, bounded by give_up
  }
  EXPECT_EQ(probe.first, grpc::StatusCode::OK);
  EXPECT_EQ(probe.second, grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  shutdown.join();
}

TEST_F(TlsTest, RotatedServerCertificateIsServedWithoutRestart) {
  Start(/*mtls=*/false);
  ASSERT_EQ(Call(Tls(ca_.ca_pem)).error_code(), grpc::StatusCode::NOT_FOUND);
  const TestPki next_ca = emulator::MakeTestPki();
  WriteFileAtomically(dir_ + "/server.key", next_ca.server_key_pem);
  WriteFileAtomically(dir_ + "/server.pem", next_ca.server_cert_pem);
  // gRPC re-reads the files every reload_interval (1 s here): poll until
  // the new certificate is served, for up to 30 s.
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (code != grpc::StatusCode::NOT_FOUND && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(250));  // polling, bounded by give_up
    code = Call(Tls(next_ca.ca_pem)).error_code();
  }
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call(Tls(ca_.ca_pem)).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "the old certificate is no longer served";
}

// Issue 11 finding 12: a rotation that leaves the files unusable (here a
// certificate whose key has not been written yet) is logged as JSON and
// counted, and a good one is reported with its expiry.
TEST_F(TlsTest, UnusableRotationIsLoggedAndCounted) {
  std::mutex mu;
  std::vector<std::string> lines;
  Logger::Get().SetSink([&](absl::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  Start(/*mtls=*/false);
  const std::string failures = "\ncertbridge_tls_reload_failures_total ";
  auto metric = [&](const std::string& series) {
    const std::string text = h_->server().metrics().Serialize();
    const size_t at = text.find(series);
    return at == std::string::npos
               ? -1.0
               : std::atof(text.c_str() + at + series.size());
  };
  const std::string expiry =
      "\ncertbridge_tls_certificate_expiry_timestamp_seconds ";
  // The files are looked at within a second of start (polled, up to 30 s).
  const absl::Time started = absl::Now();
  while (metric(expiry) <= 0 && absl::Now() < started + absl::Seconds(30)) {
    absl::SleepFor(absl::Milliseconds(50));  // polling, bounded
  }
  EXPECT_EQ(metric(failures), 0);
  EXPECT_GT(metric(expiry), absl::ToUnixSeconds(absl::Now()));
  const TestPki next = emulator::MakeTestPki();
  WriteFileAtomically(dir_ + "/server.pem", next.server_cert_pem);  // no key
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (metric(failures) < 1 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));  // polling, bounded by give_up
  }
  EXPECT_EQ(metric(failures), 1);
  h_.reset();
  Logger::Get().SetSink(nullptr);
  bool logged = false;
  for (const auto& line : lines) {
    if (absl::StrContains(line, "TLS certificate files are not usable") &&
        absl::StrContains(line, "does not match")) {
      logged = true;
      EXPECT_TRUE(nlohmann::json::parse(line).is_object());
    }
  }
  EXPECT_TRUE(logged);
}

TEST(TlsFilesTest, ChecksWhatGrpcWouldLoad) {
  char dir[] = "/tmp/certbridge-tlsf.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string d = dir;
  const TestPki a = emulator::MakeTestPki();
  const TestPki b = emulator::MakeTestPki();
  WriteFileAtomically(d + "/a.pem", a.server_cert_pem);
  WriteFileAtomically(d + "/a.key", a.server_key_pem);
  WriteFileAtomically(d + "/b.key", b.server_key_pem);
  WriteFileAtomically(d + "/half.pem", a.server_cert_pem.substr(0, 100));
  EXPECT_TRUE(
      CheckServerCertificateFiles(d + "/a.pem", d + "/a.key", absl::Now())
          .ok());
  EXPECT_FALSE(
      CheckServerCertificateFiles(d + "/a.pem", d + "/b.key", absl::Now())
          .ok());
  EXPECT_FALSE(
      CheckServerCertificateFiles(d + "/half.pem", d + "/a.key", absl::Now())
          .ok());
  EXPECT_FALSE(CheckServerCertificateFiles(d + "/a.pem", d + "/a.key",
                                           absl::Now() + absl::Hours(24 * 60))
                   .ok())
      << "expired by then";
  std::filesystem::remove_all(d);
}

}  // namespace
}  // namespace certbridge::testing
