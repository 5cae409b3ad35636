// Black-box tests over real loopback sockets: libcurl (easy) and a raw-socket
// client against HttpServer and the Emulator on 127.0.0.1:0.
#include "tests/emulator/emulator.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/http/multipart.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::emulator {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";
const std::string kToken = EmulatorOptions().leegality_token;

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  /// An interim "100 Continue" came before the response.
  bool got_continue = false;
  long new_connections = 0;
  long local_port = 0;
  absl::Duration took;
};

// One easy handle: consecutive calls reuse its keep-alive connection.
class Client {
 public:
  Client() : h_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(h_); }

  Reply Send(const std::string& method, const std::string& url,
             const std::string& body = "",
             std::vector<std::string> headers = {}, long timeout_ms = 10000) {
    Reply reply;
    curl_easy_reset(h_);
    curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, timeout_ms);
    // Fail loudly (5 s) rather than silently waiting curl's default 1 s.
    curl_easy_setopt(h_, CURLOPT_EXPECT_100_TIMEOUT_MS, 5000L);
    if (method == "GET") curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
    if (!body.empty() || method == "POST" || method == "PUT") {
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(body.size()));
    }
    bool has_expect = false;
    curl_slist* list = nullptr;
    for (const std::string& header : headers) {
      if (header.rfind("Expect:", 0) == 0) has_expect = true;
      list = curl_slist_append(list, header.c_str());
    }
    if (!has_expect) list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &Client::OnBody);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, &Client::OnHeader);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &reply);
    const absl::Time start = absl::Now();
    reply.code = curl_easy_perform(h_);
    reply.took = absl::Now() - start;
    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_getinfo(h_, CURLINFO_NUM_CONNECTS, &reply.new_connections);
    curl_easy_getinfo(h_, CURLINFO_LOCAL_PORT, &reply.local_port);
    curl_slist_free_all(list);
    return reply;
  }

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* out) {
    Reply& reply = *static_cast<Reply*>(out);
    std::string line(data, size * n);
    // libcurl hands over the status line of every response, interim ones
    // included.
    if (line.rfind("HTTP/1.1 100 ", 0) == 0) reply.got_continue = true;
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      value.erase(value.find_last_not_of("\r\n ") + 1);
      reply.headers[name] = value;
    }
    return size * n;
  }
  CURL* h_;
};

// A raw TCP client for what curl will not do on purpose.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawClient() { Close(); }
  bool connected() const { return connected_; }
  void Send(const std::string& data) {
    ASSERT_EQ(send(fd_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }
  // Reads until `needle` has been seen `count` times, EOF or timeout.
  std::string ReadUntil(const std::string& needle, int count = 1) {
    std::string out;
    char buf[4096];
    while (Count(out, needle) < count) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Everything until the server closes (or 5 s pass).
  std::string ReadToEof() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd_, buf, sizeof(buf), 0)) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    eof_ = n == 0;
    return out;
  }
  bool eof() const { return eof_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  static int Count(const std::string& s, const std::string& needle) {
    int n = 0;
    for (size_t p = s.find(needle); p != std::string::npos;
         p = s.find(needle, p + 1)) {
      ++n;
    }
    return n;
  }
  int fd_;
  bool connected_ = false;
  bool eof_ = false;
};

// --- HttpServer on its own -------------------------------------------------

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = HttpServer::Start(
        {}, [this](const HttpRequest& r, ConnectionControl& control) {
          HttpResponse out;
          if (r.path == "/wait") {
            waiting_.fetch_add(1);
            const WaitResult w = control.Wait(absl::Seconds(30));
            out.body = w == WaitResult::kServerStopping ? "stopping" : "other";
            return out;
          }
          out.headers.emplace_back("Content-Type", "text/plain");
          out.headers.emplace_back("X-Method", r.method);
          out.headers.emplace_back("X-Target", r.target);
          out.body = r.body;
          return out;
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    url_ = absl::StrCat("http://127.0.0.1:", server_->port());
  }

  std::atomic<int> waiting_{0};
  std::unique_ptr<HttpServer> server_;
  std::string url_;
};

TEST_F(HttpServerTest, BindsAnEphemeralPortAndEchoes) {
  EXPECT_GT(server_->port(), 0);
  Client c;
  Reply r = c.Send("POST", url_ + "/echo?x=1", "hello");
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.headers["x-target"], "/echo?x=1");
  EXPECT_EQ(r.headers["connection"], "keep-alive");
}

TEST_F(HttpServerTest, KeepAliveReusesTheConnection) {
  Client c;
  Reply first = c.Send("GET", url_ + "/a");
  Reply second = c.Send("GET", url_ + "/b");
  Reply third = c.Send("POST", url_ + "/c", "body");
  EXPECT_EQ(first.new_connections, 1);
  EXPECT_EQ(second.new_connections, 0);
  EXPECT_EQ(third.new_connections, 0);
  EXPECT_EQ(first.local_port, third.local_port);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.connected());
  raw.Send("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const std::string reply = raw.ReadToEof();
  EXPECT_TRUE(raw.eof());
  EXPECT_THAT(reply, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Connection: close\r\n"));
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawClient raw(server_->port());
  raw.Send(
      "POST /1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET /2 HTTP/1.1\r\n\r\n");
  const std::string reply = raw.ReadUntil("HTTP/1.1 200", 2);
  const auto first = reply.find("X-Target: /1");
  const auto second = reply.find("X-Target: /2");
  ASSERT_NE(first, std::string::npos) << reply;
  ASSERT_NE(second, std::string::npos) << reply;
  EXPECT_LT(first, second);
}

TEST_F(HttpServerTest, ChunkedRequestBodyIsDecoded) {
  RawClient raw(server_->port());
  raw.Send(
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
  const std::string reply = raw.ReadUntil("hello world");
  EXPECT_THAT(reply, HasSubstr("Content-Length: 11\r\n"));
  EXPECT_THAT(reply, HasSubstr("\r\n\r\nhello world"));
}

TEST_F(HttpServerTest, ChunkedUploadThroughCurl) {
  Client c;
  const std::string body(300000, 'z');
  Reply r = c.Send("POST", url_ + "/c", body, {"Transfer-Encoding: chunked"});
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.body.size(), body.size());
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredAtOnce) {
  Client c;
  const std::string body(5 * 1024 * 1024, 'b');
  Reply r = c.Send("PUT", url_ + "/big", body, {"Expect: 100-continue"});
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), body.size());
  // The event: the server said "100 Continue" (the client did not send the
  // body after its 5 s fallback). The bound is generous (a few tens of ms
  // are usual) and stays below that fallback.
  EXPECT_TRUE(r.got_continue);
  EXPECT_LT(r.took, absl::Seconds(4)) << "the client waited for 100-continue";
}

TEST_F(HttpServerTest, OversizedBodiesGet413) {
  RawClient raw(server_->port());
  raw.Send(
      absl::StrCat("POST /x HTTP/1.1\r\nContent-Length: ", 16 * 1024 * 1024 + 1,
                   "\r\nExpect: 100-continue\r\n\r\n"));
  const std::string reply = raw.ReadToEof();
  EXPECT_THAT(reply, HasSubstr("HTTP/1.1 413 "));
  EXPECT_THAT(reply, ::testing::Not(HasSubstr("100 Continue")));
}

TEST_F(HttpServerTest, MalformedRequestsGet400) {
  for (const char* bad :
       {"NONSENSE\r\n\r\n", "GET /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "GET /x HTTP/1.1\r\nNoColonHere\r\n\r\n"}) {
    RawClient raw(server_->port());
    raw.Send(bad);
    EXPECT_THAT(raw.ReadToEof(), HasSubstr("HTTP/1.1 400 ")) << bad;
  }
}

TEST_F(HttpServerTest, StopClosesIdleAndWaitingConnections) {
  RawClient idle(server_->port());
  RawClient waiting(server_->port());
  ASSERT_TRUE(idle.connected() && waiting.connected());
  waiting.Send("GET /wait HTTP/1.1\r\n\r\n");
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (waiting_.load() == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));  // polling, bounded by give_up
  }
  ASSERT_EQ(waiting_.load(), 1);
  const absl::Time start = absl::Now();
  server_->Stop();
  // Stop interrupts the handler's 30 s wait: a few ms, 10 s is generous.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  idle.ReadToEof();
  EXPECT_TRUE(idle.eof());
  waiting.ReadToEof();
  server_->Stop();  // idempotent
}

TEST(HttpServerLifecycleTest, StartsAndStopsManyTimes) {
  for (int i = 0; i < 30; ++i) {
    auto server = HttpServer::Start(
        {},
        [](const HttpRequest&, ConnectionControl&) { return HttpResponse{}; });
    ASSERT_TRUE(server.ok());
    Client c;
    EXPECT_EQ(
        c.Send("GET", absl::StrCat("http://127.0.0.1:", (*server)->port(), "/"))
            .status,
        200);
    // The client's connection is still open here; Stop() must not hang.
  }
}

TEST(HttpServerLifecycleTest, BindFailureIsAnError) {
  auto first = HttpServer::Start({}, nullptr);
  ASSERT_TRUE(first.ok());
  HttpServerOptions options;
  options.port = (*first)->port();
  EXPECT_FALSE(HttpServer::Start(options, nullptr).ok());
  options.host = "not a host";
  EXPECT_FALSE(HttpServer::Start(options, nullptr).ok());
}

// --- the Emulator ----------------------------------------------------------

const std::string& Pfx() {
  static const std::string* pfx =
      new std::string(testing::MakePkcs12(testing::Pkcs12Options{}));
  return *pfx;
}

struct Upload {
  std::string body;
  std::string content_type;
};

Upload CreateForm(const std::string& file_name = "signer.p12",
                  const std::string& file = Pfx()) {
  MultipartBuilder b(RandomBoundary());
  b.AddFile("certificateFile", file_name, "application/x-pkcs12", file);
  b.AddField("passkey", "test-passkey");
  b.AddField("departmentId", kLeegalityHrDepartmentId);
  b.AddField("enabled", "true");
  Upload u;
  u.body = b.Build();
  u.content_type = "Content-Type: " + b.ContentType();
  return u;
}

FaultSpec Fault(const std::string& method, int status, int times = 1) {
  FaultSpec f;
  f.method = method;
  f.status = status;
  f.times = times;
  return f;
}

class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Emulator::Start({});
    ASSERT_TRUE(e.ok()) << e.status();
    emulator_ = *std::move(e);
    certs_ = emulator_->base_url() + "/api/v1/certificates";
  }

  Reply Call(const std::string& method, const std::string& url,
             const std::string& body = "",
             std::vector<std::string> headers = {}, long timeout_ms = 10000) {
    headers.push_back("X-Auth-Token: " + kToken);
    return client_.Send(method, url, body, std::move(headers), timeout_ms);
  }

  Reply Create(const std::string& file_name = "signer.p12") {
    Upload u = CreateForm(file_name);
    return Call("POST", certs_, u.body, {u.content_type});
  }

  std::string CreateId(const std::string& file_name = "signer.p12") {
    Reply r = Create(file_name);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["data"]["id"];
  }

  std::unique_ptr<Emulator> emulator_;
  std::string certs_;
  Client client_;
};

TEST_F(EmulatorTest, BaseUrlAndHealth) {
  EXPECT_EQ(emulator_->base_url(),
            absl::StrCat("http://127.0.0.1:", emulator_->port()));
  Reply r = client_.Send("GET", emulator_->base_url() + "/__emulator/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"status":"ok"})"));
  EXPECT_TRUE(emulator_->Requests().empty()) << "control is not recorded";
}

TEST_F(EmulatorTest, LeegalityRoundTripOverHttp) {
  Reply created = Create();
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.headers["content-type"], "application/json");
  const std::string id = json::parse(created.body)["data"]["id"];

  Reply got = Call("GET", certs_ + "/" + id);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body)["id"], id);
  // A base URL ending in /api (the real server root) works too.
  EXPECT_EQ(
      Call("GET", emulator_->base_url() + "/api/api/v1/certificates/" + id)
          .status,
      200);

  MultipartBuilder b("b-1");
  b.AddField("departmentId", kLeegalityLegalDepartmentId);
  const std::string form = b.Build();
  Reply updated = Call("PUT", certs_ + "/" + id, form,
                       {"Content-Type: " + b.ContentType()});
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(json::parse(updated.body)["data"]["departmentName"], "Legal");

  Reply deleted = Call("DELETE", certs_ + "/" + id);
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(json::parse(deleted.body)["code"], "LE_SS_002");
  EXPECT_EQ(Call("GET", certs_ + "/" + id).status, 404);
  EXPECT_EQ(Call("GET", certs_ + "/not-a-uuid").status, 400);
  EXPECT_EQ(client_.Send("GET", certs_ + "/" + id).status, 401);

  const auto requests = emulator_->Requests();
  ASSERT_EQ(requests.size(), 8u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/api/v1/certificates");
  EXPECT_EQ(requests[0].api, "leegality");
  EXPECT_EQ(requests[0].status, 201);
  EXPECT_EQ(requests[0].headers.at("x-auth-token"), kToken);
  EXPECT_THAT(requests[0].body, HasSubstr("filename=\"signer.p12\""));
  EXPECT_EQ(requests[1].status, 200);
  EXPECT_EQ(requests[7].status, 401);
  EXPECT_LE(requests[0].arrival, requests[7].arrival);
}

TEST_F(EmulatorTest, FiveMebibyteUploadWithExpectContinueIsFast) {
  testing::Pkcs12Options options;
  options.exact_size = kLeegalityMaxFileBytes;
  const std::string big = testing::MakePkcs12(options);
  ASSERT_EQ(big.size(), kLeegalityMaxFileBytes);
  Upload u = CreateForm("big.p12", big);
  Reply r =
      Call("POST", certs_, u.body, {u.content_type, "Expect: 100-continue"});
  EXPECT_EQ(r.status, 201) << r.body;
  // Fast means not waiting for curl's 5 s 100-continue fallback: the
  // interim reply came (the event), and a generous bound below 5 s.
  EXPECT_TRUE(r.got_continue);
  EXPECT_LT(r.took, absl::Seconds(4));

  // One byte over the documented 5 MB: 400 from the application.
  Upload over = CreateForm("over.p12", big + "x");
  Reply rejected = Call("POST", certs_, over.body,
                        {over.content_type, "Expect: 100-continue"});
  EXPECT_EQ(rejected.status, 400);
  EXPECT_TRUE(rejected.got_continue);
  EXPECT_LT(rejected.took, absl::Seconds(4));
  EXPECT_EQ(emulator_->leegality().size(), 1u);
}

TEST_F(EmulatorTest, FaultSequenceThenNormal) {
  emulator_->AddFault(Fault("GET", 503));
  emulator_->AddFault(Fault("GET", 503));
  const std::string url = certs_ + "/" + kMissingId;
  EXPECT_EQ(Call("GET", url).status, 503);
  EXPECT_EQ(Call("POST", certs_, "x", {"Content-Type: text/plain"}).status, 415)
      << "method filter";
  EXPECT_EQ(Call("GET", url).status, 503);
  EXPECT_EQ(Call("GET", url).status, 404);
  const auto requests = emulator_->Requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].status, 503);
  EXPECT_EQ(requests[3].status, 404);
}

TEST_F(EmulatorTest, InjectedStatusDoesNotApplyAndCarriesBodyAndHeaders) {
  FaultSpec f = Fault("POST", 500);
  f.body =
      LeegalityErrorBody(500, "LE_ERR_SS_500", "", "Internal Server Error");
  emulator_->AddFault(f);
  Reply r = Create();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, f.body);
  EXPECT_EQ(emulator_->leegality().size(), 0u);

  FaultSpec limited = Fault("", 429);
  limited.path_prefix = "/api/v1/certificates/";
  limited.headers = {{"Retry-After", "7"}};
  emulator_->AddFault(limited);
  EXPECT_EQ(Create().status, 201) << "prefix does not match the collection";
  Reply r429 = Call("GET", certs_ + "/" + kMissingId);
  EXPECT_EQ(r429.status, 429);
  EXPECT_EQ(r429.headers["retry-after"], "7");
}

TEST_F(EmulatorTest, DelayThenNormalHandling) {
  FaultSpec f;
  f.delay_ms = 200;
  f.headers = {{"Retry-After", "1"}};
  emulator_->AddFault(f);
  Reply r = Call("GET", certs_ + "/" + kMissingId);
  EXPECT_EQ(r.status, 404);
  EXPECT_GE(r.took, absl::Milliseconds(195));
  EXPECT_EQ(r.headers["retry-after"], "1");
}

TEST_F(EmulatorTest, ClientClosingDuringDelayIsRecordedAndNotApplied) {
  const std::string id = CreateId();
  FaultSpec f;
  f.method = "DELETE";
  f.delay_ms = 5000;
  emulator_->AddFault(f);
  Reply r = Call("DELETE", certs_ + "/" + id, "", {}, /*timeout_ms=*/200);
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_TRUE(emulator_->WaitForRequest(
      [](const RecordedRequest& rr) { return rr.client_closed; },
      absl::Seconds(30)));
  EXPECT_TRUE(emulator_->leegality().Get(id).has_value()) << "not applied";
  const auto requests = emulator_->Requests();
  EXPECT_EQ(requests.back().status, 0);
  EXPECT_FALSE(requests.back().reset);
}

TEST_F(EmulatorTest, ResetDropsWithoutApplying) {
  FaultSpec f;
  f.method = "POST";
  f.reset = true;
  emulator_->AddFault(f);
  Reply r = Create();
  EXPECT_TRUE(r.code == CURLE_GOT_NOTHING || r.code == CURLE_RECV_ERROR)
      << curl_easy_strerror(r.code);
  EXPECT_EQ(emulator_->leegality().size(), 0u);
  const auto requests = emulator_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].reset);
  EXPECT_EQ(requests[0].status, 0);
  // The next request opens a fresh connection and works.
  EXPECT_EQ(Create().status, 201);
}

TEST_F(EmulatorTest, ResetAfterApplyChangesStateButDoesNotReply) {
  FaultSpec f;
  f.method = "POST";
  f.reset_after_apply = true;
  emulator_->AddFault(f);
  Reply r = Create();
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_EQ(emulator_->leegality().size(), 1u);
  EXPECT_TRUE(emulator_->Requests()[0].reset);
  // A retry of the same create now conflicts: exactly what clients must face.
  EXPECT_EQ(Create().status, 409);
}

TEST_F(EmulatorTest, MalformedBodyIsNotJson) {
  FaultSpec f;
  f.malformed = true;
  emulator_->AddFault(f);
  Reply r = Call("GET", certs_ + "/" + kMissingId);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());
  EXPECT_TRUE(json::parse(r.body, nullptr, false).is_discarded()) << r.body;
}

TEST_F(EmulatorTest, DelaysDoNotBlockOtherConnections) {
  FaultSpec f;
  f.method = "GET";
  f.delay_ms = 300;
  f.times = -1;
  emulator_->AddFault(f);
  constexpr int kClients = 100;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&] {
      Client c;
      if (c.Send("GET", emulator_->base_url() + "/__emulator/health").status ==
              200 &&
          c.Send("GET", certs_ + "/" + kMissingId, "",
                 {"X-Auth-Token: " + kToken})
                  .status == 404) {
        ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
  // Overlap, from the request log rather than the wall clock: each GET is
  // held 300 ms after it arrives, so GETs arriving within 300 ms of one
  // another were all being delayed at the same moment. A server that
  // blocked on a delay would never hold more than one.
  std::vector<absl::Time> arrivals;
  for (const auto& r : emulator_->Requests()) {
    if (r.method == "GET" && r.api == "leegality") {
      arrivals.push_back(r.arrival);
    }
  }
  ASSERT_EQ(arrivals.size(), static_cast<size_t>(kClients));
  std::sort(arrivals.begin(), arrivals.end());
  size_t most_at_once = 0;
  for (size_t first = 0, last = 0; last < arrivals.size(); ++last) {
    while (arrivals[last] - arrivals[first] >= absl::Milliseconds(300)) {
      ++first;
    }
    most_at_once = std::max(most_at_once, last - first + 1);
  }
  EXPECT_GE(most_at_once, 10u) << "delays blocked other connections";
}

TEST_F(EmulatorTest, ControlEndpoints) {
  const std::string base = emulator_->base_url() + "/__emulator";
  Reply added = client_.Send(
      "POST", base + "/faults",
      R"([{"method":"GET","status":503},{"method":"GET","status":504,)"
      R"("headers":{"Retry-After":"2"}}])",
      {"Content-Type: application/json"});
  EXPECT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(Call("GET", certs_ + "/" + kMissingId).status, 503);
  EXPECT_EQ(client_
                .Send("POST", base + "/faults",
                      R"({"method":"GET",)"
                      R"("status":502})")
                .status,
            200);
  EXPECT_EQ(client_.Send("POST", base + "/faults", R"({"bogus":1})").status,
            400);
  EXPECT_EQ(client_.Send("DELETE", base + "/faults").status, 200);
  EXPECT_EQ(Call("GET", certs_ + "/" + kMissingId).status, 404);

  // Requests: JSON, bodies truncated to 1 KiB.
  Create();
  Reply log = client_.Send("GET", base + "/requests");
  ASSERT_EQ(log.status, 200);
  json entries = json::parse(log.body);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["status"], 503);
  EXPECT_EQ(entries[2]["method"], "POST");
  EXPECT_EQ(entries[2]["api"], "leegality");
  EXPECT_LE(entries[2]["body"].get<std::string>().size(), 1024u);
  EXPECT_TRUE(entries[2]["body_truncated"].get<bool>());
  EXPECT_GT(entries[2]["body_size"].get<size_t>(), 1024u);

  // Reset: state, faults and log.
  emulator_->AddFault(Fault("GET", 500, -1));
  EXPECT_EQ(client_.Send("POST", base + "/reset").status, 200);
  EXPECT_EQ(emulator_->leegality().size(), 0u);
  EXPECT_TRUE(emulator_->Requests().empty());
  EXPECT_EQ(Call("GET", certs_ + "/" + kMissingId).status, 404);
  EXPECT_EQ(client_.Send("GET", base + "/nope").status, 404);
}

TEST_F(EmulatorTest, ResetAndClearInProcess) {
  CreateId();
  emulator_->AddFault(Fault("", 500, -1));
  emulator_->Reset();
  EXPECT_EQ(emulator_->leegality().size(), 0u);
  EXPECT_TRUE(emulator_->Requests().empty());
  EXPECT_EQ(Create().status, 201);
  emulator_->ClearRequests();
  EXPECT_TRUE(emulator_->Requests().empty());
  EXPECT_FALSE(emulator_->WaitForRequest(
      [](const RecordedRequest&) { return true; }, absl::Milliseconds(50)));
}

TEST_F(EmulatorTest, UnknownPathsAre404AndRecordedWithoutApi) {
  Reply r = client_.Send("GET", emulator_->base_url() + "/somewhere");
  EXPECT_EQ(r.status, 404);
  ASSERT_EQ(emulator_->Requests().size(), 1u);
  EXPECT_EQ(emulator_->Requests()[0].api, "");
}

}  // namespace
}  // namespace certbridge::emulator
