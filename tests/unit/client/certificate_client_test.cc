// CertificateClient against an in-process fake CertificateService on
// 127.0.0.1:0, over a channel made by CreateCertificateChannel: every RPC in
// both forms, the status conversion with certbridge's rich details, the
// request_id made once and kept across gRPC's retries, which codes are
// retried (and that it is the shipped service config that retries them).
#include "client/library/certificate_client.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "certbridge/v1/certificate_service_mock.grpc.pb.h"
#include "client/library/client_channel.h"
#include "client/library/rpc_status.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/errors.h"
#include "server/common/grpc_status.h"

namespace certbridge {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::SizeIs;

constexpr char kName[] = "backends/ap/projects/p/certificates/c";
constexpr char kGeneratedId[] = "11111111-2222-4333-8444-555555555555";
constexpr char kCallerId[] = "aaaaaaaa-2222-4333-8444-555555555555";

// What one attempt brought to the fake server.
struct Attempt {
  std::string method;
  std::string request_id;      // CreateCertificateRequest.request_id
  std::string correlation_id;  // x-request-id metadata
  std::chrono::system_clock::duration deadline_left{};
};

// Answers every method; the first scripted statuses fail attempts in turn.
class FakeService final : public v1::CertificateService::Service {
 public:
  void FailNext(grpc::Status status, int times = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < times; ++i) failures_.push_back(status);
  }
  void Delay(absl::Duration delay) {
    std::lock_guard<std::mutex> lock(mu_);
    delay_ = delay;
  }
  // Sends response headers (initial metadata) with every answer, as a
  // server that adds any does.
  void SendHeaders() {
    std::lock_guard<std::mutex> lock(mu_);
    send_headers_ = true;
  }
  std::vector<Attempt> attempts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_;
  }

  grpc::Status CreateCertificate(grpc::ServerContext* context,
                                 const v1::CreateCertificateRequest* request,
                                 v1::Certificate* response) override {
    if (auto failed = Record(context, "Create", request->request_id())) {
      return *failed;
    }
    *response = request->certificate();
    // Input only, as certbridge never returns it.
    if (response->has_leegality()) {
      response->mutable_leegality()->clear_pkcs12_file();
    }
    response->set_name(absl::StrCat(request->parent(), "/certificates/",
                                    request->certificate_id()));
    return grpc::Status::OK;
  }
  grpc::Status GetCertificate(grpc::ServerContext* context,
                              const v1::GetCertificateRequest* request,
                              v1::Certificate* response) override {
    if (auto failed = Record(context, "Get", "")) return *failed;
    response->set_name(request->name());
    response->mutable_apinizer()->set_alias("got");
    return grpc::Status::OK;
  }
  grpc::Status UpdateCertificate(grpc::ServerContext* context,
                                 const v1::UpdateCertificateRequest* request,
                                 v1::Certificate* response) override {
    if (auto failed = Record(context, "Update", "")) return *failed;
    *response = request->certificate();
    return grpc::Status::OK;
  }
  grpc::Status DeleteCertificate(
      grpc::ServerContext* context, const v1::DeleteCertificateRequest* request,
      v1::DeleteCertificateResponse* response) override {
    if (auto failed = Record(context, "Delete", "")) return *failed;
    response->set_name(request->name());
    response->mutable_undeployment_result()->set_state(
        v1::DeploymentResult::SUCCEEDED);
    return grpc::Status::OK;
  }
  grpc::Status ListCertificates(
      grpc::ServerContext* context, const v1::ListCertificatesRequest* request,
      v1::ListCertificatesResponse* response) override {
    if (auto failed = Record(context, "List", "")) return *failed;
    response->add_certificates()->set_name(request->parent() +
                                           "/certificates/a");
    response->set_next_page_token(request->page_token() + "+");
    response->set_total_size(7);
    return grpc::Status::OK;
  }

 private:
  std::optional<grpc::Status> Record(grpc::ServerContext* context,
                                     std::string method,
                                     std::string request_id) {
    Attempt attempt;
    attempt.method = std::move(method);
    attempt.request_id = std::move(request_id);
    const auto& md = context->client_metadata();
    if (auto it = md.find("x-request-id"); it != md.end()) {
      attempt.correlation_id.assign(it->second.data(), it->second.size());
    }
    attempt.deadline_left =
        context->deadline() - std::chrono::system_clock::now();
    absl::Duration delay;
    std::optional<grpc::Status> failure;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (send_headers_) context->AddInitialMetadata("x-request-id", "r-1");
      attempts_.push_back(std::move(attempt));
      delay = delay_;
      if (!failures_.empty()) {
        failure = failures_.front();
        failures_.pop_front();
      }
    }
    if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
    return failure;
  }

  mutable std::mutex mu_;
  std::vector<Attempt> attempts_;
  std::deque<grpc::Status> failures_;
  absl::Duration delay_;
  bool send_headers_ = false;
};

// certbridge's error for `code` as the server sends it (ToGrpcStatus).
grpc::Status ServerError(absl::StatusCode code, absl::string_view reason,
                         std::optional<absl::Duration> retry_delay = {}) {
  absl::Status status = MakeError(code, "backend said no", reason,
                                  {{"backend", "ap"}, {"attempts", "1"}});
  if (retry_delay) SetRetryDelay(status, *retry_delay);
  return ToGrpcStatus(status);
}

class CertificateClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&service_);
    // As certbridge's own limit: a 5 MiB certificate plus 1 MiB.
    builder.SetMaxReceiveMessageSize(kRetryBufferBytes);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }

  // A client over a channel with the shipped service config.
  CertificateClient Client(CertificateClientOptions options = {}) {
    if (!options.request_id_generator) {
      options.request_id_generator = [this] {
        ++ids_made_;
        return std::string(kGeneratedId);
      };
    }
    return CertificateClient(
        CreateCertificateChannel(target(), grpc::InsecureChannelCredentials()),
        std::move(options));
  }

  static v1::CreateCertificateRequest CreateRequest() {
    v1::CreateCertificateRequest request;
    request.set_parent("backends/ap/projects/p");
    request.set_certificate_id("c");
    request.mutable_certificate()->mutable_apinizer()->set_alias("a");
    return request;
  }

  std::vector<std::string> RequestIds() const {
    std::vector<std::string> ids;
    for (const Attempt& a : service_.attempts()) ids.push_back(a.request_id);
    return ids;
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<int> ids_made_{0};
};

// Waits for an XAsync callback.
template <typename T>
class Waiter {
 public:
  ResultCallback<T> Callback() {
    return [this](absl::StatusOr<T> result) {
      result_ = std::move(result);
      done_.Notify();
    };
  }
  absl::StatusOr<T> Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(30)));
    return result_;
  }

 private:
  absl::Notification done_;
  absl::StatusOr<T> result_ = absl::UnknownError("callback not run");
};

TEST_F(CertificateClientTest, CreateRetriedAfterUnavailableKeepsTheRequestId) {
  service_.FailNext(
      ServerError(absl::StatusCode::kUnavailable, reason::kBackendUnavailable));
  const CertificateClient client = Client();
  absl::StatusOr<v1::Certificate> cert =
      client.CreateCertificate(CreateRequest());
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->name(), kName);
  // Two attempts, one id: gRPC re-sent the message the library filled once.
  EXPECT_THAT(RequestIds(), ElementsAre(kGeneratedId, kGeneratedId));
  EXPECT_EQ(ids_made_.load(), 1);
}

TEST_F(CertificateClientTest, AsyncCreateRetriedKeepsTheRequestId) {
  service_.FailNext(ServerError(absl::StatusCode::kResourceExhausted,
                                reason::kBackendRateLimited,
                                absl::Milliseconds(10)));
  service_.FailNext(
      ServerError(absl::StatusCode::kUnavailable, reason::kBackendTimeout));
  Waiter<v1::Certificate> waiter;
  Client().CreateCertificateAsync(CreateRequest(), waiter.Callback());
  absl::StatusOr<v1::Certificate> cert = waiter.Wait();
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->name(), kName);
  EXPECT_THAT(RequestIds(),
              ElementsAre(kGeneratedId, kGeneratedId, kGeneratedId));
  EXPECT_EQ(ids_made_.load(), 1);
}

TEST_F(CertificateClientTest, FiveMegabyteCreateIsRetriedToo) {
  // gRPC retries only what fits its per-call buffer (256 KiB by default);
  // the library's channel makes room for the largest upload certbridge
  // takes.
  v1::CreateCertificateRequest request = CreateRequest();
  request.mutable_certificate()->mutable_leegality()->set_pkcs12_file(
      std::string(std::size_t{5} * 1024 * 1024, 'x'));
  service_.FailNext(
      ServerError(absl::StatusCode::kUnavailable, reason::kBackendUnavailable));
  absl::StatusOr<v1::Certificate> cert = Client().CreateCertificate(request);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_THAT(RequestIds(), ElementsAre(kGeneratedId, kGeneratedId));
}

TEST_F(CertificateClientTest, CallersRequestIdIsKept) {
  v1::CreateCertificateRequest request = CreateRequest();
  request.set_request_id(kCallerId);
  service_.FailNext(
      ServerError(absl::StatusCode::kUnavailable, reason::kBackendUnavailable));
  ASSERT_TRUE(Client().CreateCertificate(request).ok());
  EXPECT_THAT(RequestIds(), ElementsAre(kCallerId, kCallerId));
  EXPECT_EQ(ids_made_.load(), 0);
}

TEST_F(CertificateClientTest, EnsureRequestIdTellsTheIdBeforeSending) {
  const CertificateClient client = Client();
  v1::CreateCertificateRequest request = CreateRequest();
  EXPECT_EQ(client.EnsureRequestId(request), kGeneratedId);
  EXPECT_EQ(client.EnsureRequestId(request), kGeneratedId);
  EXPECT_EQ(ids_made_.load(), 1) << "made once, then kept";
  ASSERT_TRUE(client.CreateCertificate(request).ok());
  EXPECT_EQ(ids_made_.load(), 1);
  EXPECT_THAT(RequestIds(), ElementsAre(kGeneratedId));
}

TEST_F(CertificateClientTest, DefaultRequestIdIsAFreshUuidPerCreate) {
  const CertificateClient client(
      CreateCertificateChannel(target(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(client.CreateCertificate(CreateRequest()).ok());
  ASSERT_TRUE(client.CreateCertificate(CreateRequest()).ok());
  const std::vector<std::string> ids = RequestIds();
  ASSERT_THAT(ids, SizeIs(2));
  EXPECT_NE(ids[0], ids[1]);
  for (const std::string& id : ids) {
    EXPECT_THAT(id,
                ::testing::MatchesRegex(
                    "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                    "[0-9a-f]{12}"));
  }
}

TEST_F(CertificateClientTest, GivesUpAfterMaxAttemptsWithTheLastDetails) {
  service_.FailNext(
      ServerError(absl::StatusCode::kUnavailable, reason::kBackendCircuitOpen,
                  absl::Milliseconds(1)),
      10);
  absl::StatusOr<v1::Certificate> cert =
      Client().CreateCertificate(CreateRequest());
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cert.status().message(), "backend said no");
  const ErrorDetails details = GetErrorDetails(cert.status());
  EXPECT_EQ(details.reason, reason::kBackendCircuitOpen);
  EXPECT_EQ(details.retry_delay, absl::Milliseconds(1));
  // maxAttempts of docs/grpc_service_config.json, every one the same id.
  EXPECT_THAT(RequestIds(), SizeIs(4));
  EXPECT_THAT(RequestIds(), Each(Eq(kGeneratedId)));
}

TEST_F(CertificateClientTest, OtherCodesAreNotRetried) {
  for (auto [code, why] : std::vector<std::pair<absl::StatusCode, const char*>>{
           {absl::StatusCode::kInternal, reason::kBackendInternalError},
           {absl::StatusCode::kInvalidArgument, reason::kInvalidName},
           {absl::StatusCode::kAborted, reason::kConcurrentModification},
           {absl::StatusCode::kNotFound, reason::kCertificateNotFound}}) {
    service_.FailNext(ServerError(code, why));
  }
  const CertificateClient client = Client();
  v1::GetCertificateRequest request;
  request.set_name(kName);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(client.GetCertificate(request).ok());
  EXPECT_THAT(service_.attempts(), SizeIs(4)) << "one attempt per call";
}

TEST_F(CertificateClientTest, WithoutTheServiceConfigNothingIsRetried) {
  // The retries above come from the shipped config, not from gRPC defaults
  // or from the library: a plain channel makes one attempt.
  service_.FailNext(
      ServerError(absl::StatusCode::kUnavailable, reason::kBackendUnavailable));
  const CertificateClient client(
      grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  absl::StatusOr<v1::Certificate> cert =
      client.CreateCertificate(CreateRequest());
  EXPECT_EQ(cert.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(service_.attempts(), SizeIs(1));
}

// What a server must do for any of the above to work: answer a failure
// without response headers (a Trailers-Only response). Once a client has
// received headers, gRPC commits the call (gRFC A6) and retries nothing.
TEST_F(CertificateClientTest, ResponseHeadersOnAFailureCommitTheCall) {
  service_.SendHeaders();
  service_.FailNext(
      ServerError(absl::StatusCode::kUnavailable, reason::kBackendUnavailable));
  absl::StatusOr<v1::Certificate> cert =
      Client().CreateCertificate(CreateRequest());
  EXPECT_EQ(cert.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(service_.attempts(), SizeIs(1));
}

TEST_F(CertificateClientTest, EveryMethodBlockingAndAsync) {
  CertificateClientOptions options;
  options.default_timeout = absl::Seconds(20);
  const CertificateClient client = Client(options);
  CallOptions call;
  call.correlation_id = "corr-1";
  call.timeout = absl::Seconds(5);

  v1::GetCertificateRequest get;
  get.set_name(kName);
  v1::UpdateCertificateRequest update;
  update.mutable_certificate()->set_name(kName);
  update.mutable_certificate()->mutable_apinizer()->set_description("d");
  v1::DeleteCertificateRequest del;
  del.set_name(kName);
  v1::ListCertificatesRequest list;
  list.set_parent("backends/ap/projects/p");
  list.set_page_token("t");

  auto got = client.GetCertificate(get, call);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->apinizer().alias(), "got");
  auto updated = client.UpdateCertificate(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->apinizer().description(), "d");
  auto deleted = client.DeleteCertificate(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->undeployment_result().state(),
            v1::DeploymentResult::SUCCEEDED);
  auto listed = client.ListCertificates(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->next_page_token(), "t+");
  EXPECT_EQ(listed->total_size(), 7);

  Waiter<v1::Certificate> got_async, updated_async, created_async;
  Waiter<v1::DeleteCertificateResponse> deleted_async;
  Waiter<v1::ListCertificatesResponse> listed_async;
  client.GetCertificateAsync(get, got_async.Callback(), call);
  client.UpdateCertificateAsync(update, updated_async.Callback());
  client.DeleteCertificateAsync(del, deleted_async.Callback());
  client.ListCertificatesAsync(list, listed_async.Callback());
  client.CreateCertificateAsync(CreateRequest(), created_async.Callback());
  EXPECT_EQ(got_async.Wait()->apinizer().alias(), "got");
  EXPECT_EQ(updated_async.Wait()->apinizer().description(), "d");
  EXPECT_EQ(deleted_async.Wait()->name(), kName);
  EXPECT_EQ(listed_async.Wait()->next_page_token(), "t+");
  EXPECT_EQ(created_async.Wait()->name(), kName);

  std::vector<Attempt> attempts = service_.attempts();
  ASSERT_THAT(attempts, SizeIs(9));
  // The per-call options went with the two Gets only; the rest had the
  // client's default deadline and no correlation id.
  for (const Attempt& a : attempts) {
    const bool with_call_options = a.method == "Get";
    EXPECT_EQ(a.correlation_id, with_call_options ? "corr-1" : "") << a.method;
    const auto limit =
        with_call_options ? std::chrono::seconds(5) : std::chrono::seconds(20);
    // gRPC rounds the timeout it sends up, so the server's copy of the
    // deadline can be a little later than the client's.
    EXPECT_LE(a.deadline_left, limit + std::chrono::seconds(1)) << a.method;
    EXPECT_GT(a.deadline_left, limit - std::chrono::seconds(4)) << a.method;
  }
}

TEST_F(CertificateClientTest, DeadlineCoversTheCall) {
  service_.Delay(absl::Seconds(2));
  CertificateClientOptions options;
  options.default_timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  v1::GetCertificateRequest get;
  get.set_name(kName);
  absl::StatusOr<v1::Certificate> cert = Client(options).GetCertificate(get);
  EXPECT_EQ(cert.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

// The client may go while a call is in flight: its destructor waits for the
// call, so the channel is released here and not on a gRPC thread.
TEST_F(CertificateClientTest, ClientMayGoWhileACallIsInFlight) {
  service_.Delay(absl::Milliseconds(200));
  Waiter<v1::Certificate> waiter;
  {
    const CertificateClient client = Client();
    v1::GetCertificateRequest get;
    get.set_name(kName);
    client.GetCertificateAsync(get, waiter.Callback());
  }
  absl::StatusOr<v1::Certificate> cert = waiter.Wait();
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->name(), kName);
}

TEST_F(CertificateClientTest, AsyncErrorCarriesTheDetails) {
  service_.FailNext(
      ServerError(absl::StatusCode::kNotFound, reason::kCertificateNotFound));
  Waiter<v1::Certificate> waiter;
  v1::GetCertificateRequest get;
  get.set_name(kName);
  Client().GetCertificateAsync(get, waiter.Callback());
  absl::StatusOr<v1::Certificate> cert = waiter.Wait();
  EXPECT_EQ(cert.status().code(), absl::StatusCode::kNotFound);
  const ErrorDetails details = GetErrorDetails(cert.status());
  EXPECT_EQ(details.reason, reason::kCertificateNotFound);
  EXPECT_EQ(details.domain, kErrorDomain);
  EXPECT_EQ(details.metadata.at("backend"), "ap");
}

TEST(CertificateClientStubTest, MockStubHasNoCallbackApi) {
  auto stub = std::make_shared<v1::MockCertificateServiceStub>();
  const CertificateClient client{
      std::shared_ptr<v1::CertificateService::StubInterface>(stub)};
  absl::StatusOr<v1::Certificate> result;
  client.GetCertificateAsync(
      {}, [&result](absl::StatusOr<v1::Certificate> r) { result = r; });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(CertificateClientStubTest, BlockingCallsGoThroughTheGivenStub) {
  auto stub = std::make_shared<v1::MockCertificateServiceStub>();
  v1::CreateCertificateRequest sent;
  EXPECT_CALL(*stub,
              CreateCertificate(::testing::_, ::testing::_, ::testing::_))
      .WillOnce(::testing::DoAll(::testing::SaveArg<1>(&sent),
                                 ::testing::Return(grpc::Status::OK)));
  CertificateClientOptions options;
  options.request_id_generator = [] { return std::string(kGeneratedId); };
  const CertificateClient client(
      std::shared_ptr<v1::CertificateService::StubInterface>(stub), options);
  ASSERT_TRUE(client.CreateCertificate({}).ok());
  EXPECT_EQ(sent.request_id(), kGeneratedId);
}

// --- Status conversion ---

TEST(FromGrpcStatusTest, OkStaysOk) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(FromGrpcStatusTest, KeepsCodeMessageAndEveryDetail) {
  absl::Status original = MakeValidationError(reason::kInvalidName, "name",
                                              "must start with backends/");
  SetErrorMetadata(original, metadata::kRequestId, "r-1");
  SetRetryDelay(original, absl::Milliseconds(1500));
  const absl::Status status = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "name: must start with backends/");
  const ErrorDetails details = GetErrorDetails(status);
  EXPECT_EQ(details.reason, reason::kInvalidName);
  EXPECT_EQ(details.domain, "certbridge.v1");
  EXPECT_EQ(details.metadata.at("requestId"), "r-1");
  EXPECT_EQ(details.retry_delay, absl::Milliseconds(1500));
  ASSERT_THAT(details.field_violations, SizeIs(1));
  EXPECT_EQ(details.field_violations[0].field, "name");
  EXPECT_EQ(details.field_violations[0].description,
            "must start with backends/");
  // errors.h's own accessors read the same payloads.
  EXPECT_EQ(GetErrorInfo(status)->reason, reason::kInvalidName);
  EXPECT_EQ(GetRetryDelay(status), absl::Milliseconds(1500));
}

TEST(FromGrpcStatusTest, AnyTypeUrlPrefixDoesNotMatter) {
  google::rpc::ErrorInfo info;
  info.set_reason("CERTIFICATE_NOT_FOUND");
  google::rpc::Status proto;
  auto* any = proto.add_details();
  any->PackFrom(info, "type.example.com");
  ASSERT_EQ(any->type_url(), "type.example.com/google.rpc.ErrorInfo");
  const absl::Status status = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::NOT_FOUND, "gone", proto.SerializeAsString()));
  EXPECT_EQ(GetErrorDetails(status).reason, "CERTIFICATE_NOT_FOUND");
}

TEST(FromGrpcStatusTest, UnreadableDetailsLeaveCodeAndMessage) {
  const absl::Status status = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::UNAVAILABLE, "connect failed", "\xff\x01"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "connect failed");
  const ErrorDetails details = GetErrorDetails(status);
  EXPECT_EQ(details.reason, "");
  EXPECT_FALSE(details.retry_delay.has_value());
  EXPECT_TRUE(details.field_violations.empty());
}

TEST(FromGrpcStatusTest, EveryCodeKeepsItsNumber) {
  for (int code = 1; code <= 20; ++code) {
    const absl::Status status =
        FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(code), "m"));
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.raw_code(), code);
    if (code <= 16) {
      EXPECT_EQ(static_cast<int>(status.code()), code);
    }
  }
}

// --- The shipped service config ---

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(ServiceConfigTest, LibraryUsesTheDocumentedConfig) {
  const std::string documented = ReadFile(std::string(CERTBRIDGE_SOURCE_DIR) +
                                          "/docs/grpc_service_config.json");
  ASSERT_FALSE(documented.empty());
  EXPECT_EQ(DefaultServiceConfigJson(), documented);
}

TEST(ServiceConfigTest, RetriesEveryMethodOnUnavailableAndResourceExhausted) {
  const nlohmann::json config =
      nlohmann::json::parse(std::string(DefaultServiceConfigJson()));
  ASSERT_THAT(config["methodConfig"], SizeIs(1));
  const nlohmann::json& method = config["methodConfig"][0];
  // A name with a service and no method applies to every method of it.
  EXPECT_EQ(method["name"],
            nlohmann::json::parse(absl::StrCat(
                R"([{"service": ")",
                v1::CertificateService::service_full_name(), R"("}])")));
  const nlohmann::json& retry = method["retryPolicy"];
  EXPECT_EQ(retry["retryableStatusCodes"],
            nlohmann::json({"UNAVAILABLE", "RESOURCE_EXHAUSTED"}));
  // gRPC caps maxAttempts at 5; more would silently mean 5.
  EXPECT_GE(retry["maxAttempts"].get<int>(), 2);
  EXPECT_LE(retry["maxAttempts"].get<int>(), 5);
  EXPECT_TRUE(config.contains("retryThrottling"));
  // No waitForReady or timeout: the caller's deadline rules, and a server
  // that is down fails fast instead of holding the call.
  EXPECT_FALSE(method.contains("waitForReady"));
  EXPECT_FALSE(method.contains("timeout"));
}

TEST(ServiceConfigTest, DefaultChannelArgumentsCarryIt) {
  const grpc::ChannelArguments arguments = DefaultChannelArguments();
  grpc_channel_args args;
  arguments.SetChannelArgs(&args);
  bool has_config = false;
  bool has_buffer = false;
  for (std::size_t i = 0; i < args.num_args; ++i) {
    const std::string key = args.args[i].key;
    if (key == GRPC_ARG_SERVICE_CONFIG) {
      has_config =
          std::string(args.args[i].value.string) == DefaultServiceConfigJson();
    }
    if (key == GRPC_ARG_PER_RPC_RETRY_BUFFER_SIZE) {
      has_buffer = args.args[i].value.integer == kRetryBufferBytes;
    }
  }
  EXPECT_TRUE(has_config);
  EXPECT_TRUE(has_buffer);
}

}  // namespace
}  // namespace certbridge
