// HTTPS: HttpServer and the Emulator with a certificate from a test CA made
// at test time, against libcurl over loopback. Verified clients work as over
// plain HTTP (keep-alive, 100-continue, chunked, 5 MiB uploads, delays that
// notice the client leaving, resets); clients that do not trust the CA fail
// verification and the server counts the failed handshake.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "server/http/multipart.h"
#include "tests/emulator/curl_test_client.h"
#include "tests/emulator/emulator.h"
#include "tests/emulator/http_server.h"
#include "tests/emulator/test_pki.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::emulator {
namespace {

using ::certbridge::emulator::test::CurlClient;
using ::certbridge::emulator::test::CurlReply;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";

// One PKI (and its files) for the whole binary: key generation is the slow
// part, and nothing here changes it.
struct PkiFiles {
  TestPki pki;
  std::string dir;
  std::string ca() const { return dir + "/ca.pem"; }
  std::string cert() const { return dir + "/server.pem"; }
  std::string key() const { return dir + "/server.key"; }
};

const PkiFiles& Pki() {
  static const PkiFiles* files = [] {
    auto* f = new PkiFiles;
    f->pki = MakeTestPki();
    std::string tmpl = ::testing::TempDir() + "/emulator_https_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    f->dir = tmpl;
    if (!WritePkiFiles(f->pki, f->dir).ok()) std::abort();
    // Keys in /tmp outlive nothing: removed when the binary exits.
    std::atexit([] {
      for (const char* name :
           {"ca.pem", "server.pem", "server.key", "client.pem", "client.key"}) {
        std::remove((Pki().dir + "/" + name).c_str());
      }
      std::remove(Pki().dir.c_str());
    });
    return f;
  }();
  return *files;
}

// Polls `done` for up to 30 s (a loaded machine can be slow): the server
// counts a failed handshake on its connection thread, shortly after the
// client has given up.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));  // polling, bounded by give_up
  }
  return done();
}

// A TCP connection that never starts a TLS handshake.
class SilentSocket {
 public:
  explicit SilentSocket(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~SilentSocket() { close(fd_); }
  bool connected() const { return connected_; }

 private:
  int fd_;
  bool connected_ = false;
};

// --- HttpServer -------------------------------------------------------------

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions options;
    options.tls_cert_file = Pki().cert();
    options.tls_key_file = Pki().key();
    auto server = HttpServer::Start(
        options, [this](const HttpRequest& r, ConnectionControl& control) {
          HttpResponse out;
          if (r.path == "/wait") {
            waiting_.fetch_add(1);
            const WaitResult w = control.Wait(absl::Seconds(30));
            last_wait_.store(static_cast<int>(w));
            out.body = w == WaitResult::kServerStopping ? "stopping" : "other";
            return out;
          }
          out.headers.emplace_back("Content-Type", "text/plain");
          out.body = r.body.empty() ? r.target : r.body;
          return out;
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    url_ = absl::StrCat("https://127.0.0.1:", server_->port());
    client_.set_ca_file(Pki().ca());
  }

  std::atomic<int> waiting_{0};
  std::atomic<int> last_wait_{-1};
  std::unique_ptr<HttpServer> server_;
  std::string url_;
  CurlClient client_;
};

TEST_F(HttpsServerTest, VerifiedClientGetsRepliesOnOneConnection) {
  EXPECT_TRUE(server_->tls());
  CurlReply first = client_.Send("GET", url_ + "/a?x=1");
  ASSERT_EQ(first.code, CURLE_OK) << first.error;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "/a?x=1");
  CurlReply second = client_.Send("GET", url_ + "/b");
  EXPECT_EQ(second.body, "/b");
  EXPECT_EQ(second.new_connections, 0) << "keep-alive over TLS";
  EXPECT_EQ(server_->handshake_failures(), 0);
}

TEST_F(HttpsServerTest, DnsNameInTheCertificateVerifies) {
  const std::string port = std::to_string(server_->port());
  client_.set_resolve({"localhost:" + port + ":127.0.0.1"});
  CurlReply r = client_.Send("GET", "https://localhost:" + port + "/dns");
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.body, "/dns");
}

TEST_F(HttpsServerTest, ChunkedAndExpectContinueBodies) {
  CurlReply chunked = client_.Send("POST", url_ + "/echo", "hello chunks",
                                   {"Transfer-Encoding: chunked"});
  ASSERT_EQ(chunked.code, CURLE_OK) << chunked.error;
  EXPECT_EQ(chunked.body, "hello chunks");
  const std::string big(5 * 1024 * 1024, 'z');
  CurlReply expect =
      client_.Send("PUT", url_ + "/echo", big, {"Expect: 100-continue"});
  ASSERT_EQ(expect.code, CURLE_OK) << expect.error;
  EXPECT_EQ(expect.body.size(), big.size());
  // Not curl's 5 s 100-continue fallback: generous (~100 ms is usual), and
  // below it.
  EXPECT_LT(expect.took, absl::Seconds(4));
}

TEST_F(HttpsServerTest, ClientWithoutTheCaFailsVerificationAndIsCounted) {
  CurlClient untrusting;  // curl's default bundle: our CA is not in it
  CurlReply r = untrusting.Send("GET", url_ + "/");
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION)
      << curl_easy_strerror(r.code) << ": " << r.error;
  EXPECT_TRUE(Eventually([&] { return server_->handshake_failures() == 1; }))
      << server_->handshake_failures();

  // A CA of its own (another test PKI) is just as untrusted.
  const TestPki other = MakeTestPki();
  const std::string other_ca = Pki().dir + "/other-ca.pem";
  {
    std::FILE* f = std::fopen(other_ca.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(other.ca_pem.c_str(), f);
    std::fclose(f);
  }
  untrusting.set_ca_file(other_ca);
  r = untrusting.Send("GET", url_ + "/");
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
  EXPECT_TRUE(Eventually([&] { return server_->handshake_failures() == 2; }));
  std::remove(other_ca.c_str());

  // The server is unharmed.
  EXPECT_EQ(client_.Send("GET", url_ + "/ok").body, "/ok");
}

TEST_F(HttpsServerTest, PlainHttpToTheTlsPortIsAHandshakeFailure) {
  CurlClient plain;
  CurlReply r = plain.Send(
      "GET", absl::StrCat("http://127.0.0.1:", server_->port(), "/"), "", {},
      /*timeout_ms=*/3000);
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_TRUE(Eventually([&] { return server_->handshake_failures() == 1; }));
}

TEST_F(HttpsServerTest, WaitSeesTheClientLeave) {
  // A client that gives up after 300 ms while the handler waits 30 s.
  CurlReply r = client_.Send("GET", url_ + "/wait", "", {}, 300);
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_TRUE(Eventually([&] {
    return last_wait_.load() == static_cast<int>(WaitResult::kClientClosed);
  })) << last_wait_.load();
}

TEST_F(HttpsServerTest, StopEndsPendingHandshakesIdleAndWaitingConnections) {
  SilentSocket silent(server_->port());
  ASSERT_TRUE(silent.connected());
  ASSERT_EQ(client_.Send("GET", url_ + "/idle").status, 200);  // kept alive
  std::thread waiter([&] {
    CurlClient c;
    c.set_ca_file(Pki().ca());
    c.Send("GET", url_ + "/wait", "", {}, 20000);
  });
  ASSERT_TRUE(Eventually([&] { return waiting_.load() == 1; }));
  const absl::Time start = absl::Now();
  server_->Stop();
  // Stop interrupts the handler's 30 s wait: a few ms, 10 s is generous.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  waiter.join();
  EXPECT_EQ(server_->handshake_failures(), 0)
      << "handshakes cut short by Stop() are not failures";
  server_->Stop();  // idempotent
}

TEST(HttpsServerOptionsTest, BadTlsFilesFailToStart) {
  auto handler = [](const HttpRequest&, ConnectionControl&) {
    return HttpResponse{};
  };
  HttpServerOptions only_cert;
  only_cert.tls_cert_file = Pki().cert();
  EXPECT_FALSE(HttpServer::Start(only_cert, handler).ok());

  HttpServerOptions missing;
  missing.tls_cert_file = Pki().dir + "/nope.pem";
  missing.tls_key_file = Pki().key();
  auto s = HttpServer::Start(missing, handler);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("nope.pem"));

  // The CA's certificate with the server's key: they do not match.
  HttpServerOptions mismatched;
  mismatched.tls_cert_file = Pki().ca();
  mismatched.tls_key_file = Pki().key();
  s = HttpServer::Start(mismatched, handler);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), ::testing::Not(HasSubstr("PRIVATE KEY")));
}

// --- the Emulator -----------------------------------------------------------

class HttpsEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmulatorOptions options;
    options.tls_cert_file = Pki().cert();
    options.tls_key_file = Pki().key();
    auto e = Emulator::Start(options);
    ASSERT_TRUE(e.ok()) << e.status();
    emulator_ = *std::move(e);
    certs_ = emulator_->base_url() + "/api/v1/certificates";
    client_.set_ca_file(Pki().ca());
  }

  CurlReply Call(const std::string& method, const std::string& url,
                 const std::string& body = "",
                 std::vector<std::string> headers = {},
                 long timeout_ms = 10000) {
    headers.push_back("X-Auth-Token: " + EmulatorOptions().leegality_token);
    return client_.Send(method, url, body, headers, timeout_ms);
  }

  CurlReply Create(const std::string& file, std::vector<std::string> extra) {
    MultipartBuilder b(RandomBoundary());
    b.AddFile("certificateFile", "signer.p12", "application/x-pkcs12", file);
    b.AddField("passkey", "test-passkey");
    b.AddField("departmentId", kLeegalityHrDepartmentId);
    extra.push_back("Content-Type: " + b.ContentType());
    return Call("POST", certs_, b.Build(), extra);
  }

  std::unique_ptr<Emulator> emulator_;
  std::string certs_;
  CurlClient client_;
};

TEST_F(HttpsEmulatorTest, BaseUrlIsHttpsAndLeegalityAnswers) {
  EXPECT_EQ(emulator_->base_url(),
            absl::StrCat("https://127.0.0.1:", emulator_->port()));
  CurlReply r = Call("GET", certs_ + "/" + kMissingId);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["code"], "LE_ERR_SS_404");
  ASSERT_EQ(emulator_->Requests().size(), 1u);
  EXPECT_EQ(emulator_->Requests()[0].api, "leegality");
  EXPECT_EQ(emulator_->handshake_failures(), 0);
}

TEST_F(HttpsEmulatorTest, FiveMebibyteUploadIsFast) {
  testing::Pkcs12Options options;
  options.exact_size = kLeegalityMaxFileBytes;
  const std::string big = testing::MakePkcs12(options);
  CurlReply r = Create(big, {"Expect: 100-continue"});
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 201) << r.body;
  // Not curl's 5 s 100-continue fallback: generous (~100 ms is usual), and
  // below it.
  EXPECT_LT(r.took, absl::Seconds(4));
  EXPECT_EQ(emulator_->leegality().size(), 1u);
}

TEST_F(HttpsEmulatorTest, UntrustingClientIsCounted) {
  CurlClient untrusting;
  CurlReply r = untrusting.Send("GET", certs_ + "/" + kMissingId);
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
  EXPECT_TRUE(Eventually([&] { return emulator_->handshake_failures() == 1; }));
  EXPECT_TRUE(emulator_->Requests().empty()) << "nothing reached HTTP";
}

TEST_F(HttpsEmulatorTest, ClientClosingDuringDelayIsRecorded) {
  FaultSpec f;
  f.method = "GET";
  f.delay_ms = 5000;
  emulator_->AddFault(f);
  CurlReply r = Call("GET", certs_ + "/" + kMissingId, "", {}, 300);
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_TRUE(emulator_->WaitForRequest(
      [](const RecordedRequest& rr) { return rr.client_closed; },
      absl::Seconds(30)));
  EXPECT_EQ(emulator_->Requests().back().status, 0);
}

TEST_F(HttpsEmulatorTest, ResetDropsTheConnectionAndTheNextOneWorks) {
  FaultSpec f;
  f.method = "GET";
  f.reset = true;
  emulator_->AddFault(f);
  CurlReply r = Call("GET", certs_ + "/" + kMissingId);
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_TRUE(emulator_->Requests()[0].reset);
  CurlReply next = Call("GET", certs_ + "/" + kMissingId);
  ASSERT_EQ(next.code, CURLE_OK) << next.error;
  EXPECT_EQ(next.status, 404);
}

TEST_F(HttpsEmulatorTest, InjectedStatusOverTls) {
  FaultSpec f;
  f.status = 503;
  f.body = "{\"error\":\"busy\"}";
  emulator_->AddFault(f);
  CurlReply r = Call("GET", certs_ + "/" + kMissingId);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, f.body);
}

}  // namespace
}  // namespace certbridge::emulator
