// CertificateServiceImpl over real gRPC (an in-process server on loopback,
// called through the generated stub), with a gMock BackendStub as each
// backend's connection: what the handlers route, refuse, pass through and
// survive, with no HTTP below them.
//
// Two backends: "lee" (leegality: backends/lee/certificates/{uuid}) and
// "api" (apinizer: backends/api/projects/{p}/certificates/{id}). Both mocks
// are strict, and a call nobody expected completes its callback with
// INTERNAL (ON_CALL), so a wrong route fails the test instead of hanging it.
#include "server/service/certificate_service.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/backends/backend_connection.h"
#include "server/backends/backend_registry.h"
#include "server/backends/call_context.h"
#include "server/common/errors.h"
#include "server/common/resource_name.h"
#include "tests/testing/builtin_vendor.h"
#include "tests/testing/certificate_fixtures.h"
#include "tests/testing/mock_backend_stub.h"

namespace certbridge {
namespace {

using ::testing::_;
using ::testing::Contains;
using ::testing::ElementsAre;
using testing::MockBackendStub;
using ::testing::Pair;
using ::testing::StrictMock;
using Stub = v1::CertificateService::Stub;

constexpr char kLeeId[] = "46d4e120-ed03-47cc-98c6-529bff3bbabc";
constexpr char kLeeName[] =
    "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc";
// The project is %-escaped in the name and arrives unescaped.
constexpr char kApiName[] =
    "backends/api/projects/my%20p/certificates/bank-root";
constexpr char kPasskey[] = "test-passkey";
// Sent as x-request-id by every call: the backend's CallContext and every
// error's ErrorInfo carry it.
constexpr char kRequestId[] = "service-test-call-1";

// Client deadline of every RPC but the deadline test's: never reached.
constexpr absl::Duration kRpcDeadline = absl::Seconds(30);
// The deadline test's: passes while the backend holds the callback.
// Long enough for the call to reach the backend on a loaded 2-core machine
// (a Create opens its PKCS#12 first), short enough to wait out in a test.
constexpr absl::Duration kShortDeadline = absl::Seconds(3);
// Longest wait for something that must happen.
constexpr absl::Duration kWait = absl::Seconds(20);

enum class Kind { kLeegality, kApinizer };

// Made once: an RSA key per call is slow.
const std::string& Pkcs12File() {
  static const std::string* const file = new std::string(testing::MakePkcs12());
  return *file;
}
const std::string& PemFile() {
  static const std::string* const file =
      new std::string(testing::MakePemCertificate());
  return *file;
}

absl::Time PrepareContext(grpc::ClientContext& context,
                          absl::Duration deadline = kRpcDeadline) {
  const absl::Time at = absl::Now() + deadline;
  context.set_deadline(absl::ToChronoTime(at));
  context.AddMetadata("x-request-id", kRequestId);
  return at;
}

::testing::AssertionResult SameProto(const google::protobuf::Message& got,
                                     const google::protobuf::Message& want) {
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(got, want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "differs: " << diff;
}

void ExpectSameName(const CertificateName& got, const CertificateName& want) {
  EXPECT_EQ(got.backend, want.backend);
  EXPECT_EQ(got.has_project, want.has_project);
  EXPECT_EQ(got.project, want.project);
  EXPECT_EQ(got.certificate, want.certificate);
}
void ExpectSameName(const ParentName& got, const ParentName& want) {
  EXPECT_EQ(got.backend, want.backend);
  EXPECT_EQ(got.has_project, want.has_project);
  EXPECT_EQ(got.project, want.project);
}

// What a caller receives, google.rpc.Status decoded from error_details()
// (as tests/integration/certbridge_harness.cc DecodeRpcError does).
struct RpcError {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  bool details_parsed = false;
  int details_code = 0;
  std::string details_message;
  int error_info_count = 0;
  std::string reason;
  std::string domain;
  std::map<std::string, std::string> metadata;
  std::optional<absl::Duration> retry_delay;
  std::vector<std::string> violation_fields;
  int other_details = 0;
};

RpcError Decode(const grpc::Status& status) {
  RpcError out;
  out.code = status.error_code();
  out.message = status.error_message();
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return out;
  out.details_parsed = true;
  out.details_code = details.code();
  out.details_message = details.message();
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::RetryInfo retry;
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&info)) {
      ++out.error_info_count;
      out.reason = info.reason();
      out.domain = info.domain();
      for (const auto& [k, v] : info.metadata()) out.metadata[k] = v;
    } else if (any.UnpackTo(&retry)) {
      out.retry_delay = absl::Seconds(retry.retry_delay().seconds()) +
                        absl::Nanoseconds(retry.retry_delay().nanos());
    } else if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        out.violation_fields.push_back(v.field());
      }
    } else {
      ++out.other_details;
    }
  }
  return out;
}

// --- Valid requests and backend answers --------------------------------

v1::CreateCertificateRequest LeegalityCreate() {
  v1::CreateCertificateRequest r;
  r.set_parent("backends/lee");
  r.set_request_id("9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f");
  auto* l = r.mutable_certificate()->mutable_leegality();
  l->set_pkcs12_file(Pkcs12File());
  l->set_passkey(kPasskey);
  l->set_file_name("signing.p12");
  l->set_department_id("0b7f1f0e-3a52-4c5e-9a8e-5f1f2d3c4b5a");
  return r;
}

v1::CreateCertificateRequest ApinizerCreate() {
  v1::CreateCertificateRequest r;
  r.set_parent("backends/api/projects/my%20p");
  r.set_certificate_id("bank-root");
  auto* a = r.mutable_certificate()->mutable_apinizer();
  a->set_alias("bank");
  a->set_description("Bank root");
  a->add_environments("prod");
  a->add_environments("test");
  a->set_pem_certificate(PemFile());
  return r;
}

v1::UpdateCertificateRequest LeegalityUpdate() {
  v1::UpdateCertificateRequest r;
  r.mutable_certificate()->set_name(kLeeName);
  auto* l = r.mutable_certificate()->mutable_leegality();
  l->set_pkcs12_file(Pkcs12File());
  l->set_passkey(kPasskey);
  l->set_enabled(true);
  r.mutable_update_mask()->add_paths("leegality.pkcs12_file");
  r.mutable_update_mask()->add_paths("leegality.passkey");
  r.mutable_update_mask()->add_paths("leegality.enabled");
  return r;
}

v1::UpdateCertificateRequest ApinizerUpdate() {
  v1::UpdateCertificateRequest r;
  r.mutable_certificate()->set_name(kApiName);
  auto* a = r.mutable_certificate()->mutable_apinizer();
  a->set_pem_certificate(PemFile());
  a->add_environments("prod");
  r.mutable_update_mask()->add_paths("apinizer.pem_certificate");
  r.mutable_update_mask()->add_paths("apinizer.environments");
  r.set_jwk_update_action(v1::JWK_UPDATE_ACTION_UPDATE);
  r.set_jwk_update_scope(v1::SAME_PROJECT);
  return r;
}

CertificateName ParsedCertificate(Kind kind) {
  CertificateName n;
  if (kind == Kind::kLeegality) {
    n.backend = "lee";
    n.certificate = kLeeId;
  } else {
    n.backend = "api";
    n.has_project = true;
    n.project = "my p";
    n.certificate = "bank-root";
  }
  return n;
}

ParentName ParsedParent(Kind kind) {
  ParentName n;
  if (kind == Kind::kLeegality) {
    n.backend = "lee";
  } else {
    n.backend = "api";
    n.has_project = true;
    n.project = "my p";
  }
  return n;
}

v1::Certificate SampleCertificate(Kind kind) {
  v1::Certificate c;
  if (kind == Kind::kLeegality) {
    c.set_name(kLeeName);
    c.set_display_name("signing.p12");
    c.set_etag("\"lee-1\"");
    auto* l = c.mutable_leegality();
    l->set_id(kLeeId);
    l->set_certificate_type(v1::LeegalityCertificate::PKCS12_PFX);
    l->set_enabled(true);
  } else {
    c.set_name(kApiName);
    c.set_display_name("bank");
    c.set_etag("\"api-1\"");
    auto* a = c.mutable_apinizer();
    a->set_alias("bank");
    a->add_environments("prod");
    a->add_environments("test");
    // A write whose deployment partly failed is still a successful write
    // (the service logs it as a warning and returns it as is).
    auto* d = a->mutable_deployment_result();
    d->set_state(v1::DeploymentResult::PARTIALLY_FAILED);
    auto* prod = d->add_environment_results();
    prod->set_environment("prod");
    prod->set_success(true);
    auto* test = d->add_environment_results();
    test->set_environment("test");
    test->set_message("gateway unreachable");
  }
  return c;
}

v1::DeleteCertificateResponse SampleDeleteResponse(Kind kind) {
  v1::DeleteCertificateResponse r;
  if (kind == Kind::kLeegality) {
    r.set_name(kLeeName);
  } else {
    r.set_name(kApiName);
    auto* d = r.mutable_undeployment_result();
    d->set_state(v1::DeploymentResult::FAILED);
    auto* prod = d->add_environment_results();
    prod->set_environment("prod");
    prod->set_message("gateway unreachable");
  }
  return r;
}

// --- The four RPCs, for the tests every handler gets --------------------

struct CreateRpc {
  using Request = v1::CreateCertificateRequest;
  using Response = v1::Certificate;
  using Name = ParentName;
  static constexpr char kMethod[] = "Create";
  static Request Valid(Kind kind) {
    return kind == Kind::kLeegality ? LeegalityCreate() : ApinizerCreate();
  }
  static Name Parsed(Kind kind) { return ParsedParent(kind); }
  static Response Reply(Kind kind) { return SampleCertificate(kind); }
  static auto& Expect(MockBackendStub& mock) {
    return EXPECT_CALL(mock, CreateCertificate(_, _, _, _));
  }
  static grpc::Status Call(Stub& stub, grpc::ClientContext* context,
                           const Request& request, Response* response) {
    return stub.CreateCertificate(context, request, response);
  }
  static void Start(Stub& stub, grpc::ClientContext* context,
                    const Request* request, Response* response,
                    std::function<void(grpc::Status)> done) {
    stub.async()->CreateCertificate(context, request, response,
                                    std::move(done));
  }
};

struct GetRpc {
  using Request = v1::GetCertificateRequest;
  using Response = v1::Certificate;
  using Name = CertificateName;
  static constexpr char kMethod[] = "Get";
  static Request Valid(Kind kind) {
    Request r;
    r.set_name(kind == Kind::kLeegality ? kLeeName : kApiName);
    return r;
  }
  static Name Parsed(Kind kind) { return ParsedCertificate(kind); }
  static Response Reply(Kind kind) { return SampleCertificate(kind); }
  static auto& Expect(MockBackendStub& mock) {
    return EXPECT_CALL(mock, GetCertificate(_, _, _, _));
  }
  static grpc::Status Call(Stub& stub, grpc::ClientContext* context,
                           const Request& request, Response* response) {
    return stub.GetCertificate(context, request, response);
  }
  static void Start(Stub& stub, grpc::ClientContext* context,
                    const Request* request, Response* response,
                    std::function<void(grpc::Status)> done) {
    stub.async()->GetCertificate(context, request, response, std::move(done));
  }
};

struct UpdateRpc {
  using Request = v1::UpdateCertificateRequest;
  using Response = v1::Certificate;
  using Name = CertificateName;
  static constexpr char kMethod[] = "Update";
  static Request Valid(Kind kind) {
    return kind == Kind::kLeegality ? LeegalityUpdate() : ApinizerUpdate();
  }
  static Name Parsed(Kind kind) { return ParsedCertificate(kind); }
  static Response Reply(Kind kind) { return SampleCertificate(kind); }
  static auto& Expect(MockBackendStub& mock) {
    return EXPECT_CALL(mock, UpdateCertificate(_, _, _, _));
  }
  static grpc::Status Call(Stub& stub, grpc::ClientContext* context,
                           const Request& request, Response* response) {
    return stub.UpdateCertificate(context, request, response);
  }
  static void Start(Stub& stub, grpc::ClientContext* context,
                    const Request* request, Response* response,
                    std::function<void(grpc::Status)> done) {
    stub.async()->UpdateCertificate(context, request, response,
                                    std::move(done));
  }
};

struct DeleteRpc {
  using Request = v1::DeleteCertificateRequest;
  using Response = v1::DeleteCertificateResponse;
  using Name = CertificateName;
  static constexpr char kMethod[] = "Delete";
  static Request Valid(Kind kind) {
    Request r;
    if (kind == Kind::kLeegality) {
      r.set_name(kLeeName);
    } else {
      r.set_name(kApiName);
      r.set_jwk_delete_action(v1::JWK_DELETE_ACTION_DELETE);
    }
    return r;
  }
  static Name Parsed(Kind kind) { return ParsedCertificate(kind); }
  static Response Reply(Kind kind) { return SampleDeleteResponse(kind); }
  static auto& Expect(MockBackendStub& mock) {
    return EXPECT_CALL(mock, DeleteCertificate(_, _, _, _));
  }
  static grpc::Status Call(Stub& stub, grpc::ClientContext* context,
                           const Request& request, Response* response) {
    return stub.DeleteCertificate(context, request, response);
  }
  static void Start(Stub& stub, grpc::ClientContext* context,
                    const Request* request, Response* response,
                    std::function<void(grpc::Status)> done) {
    stub.async()->DeleteCertificate(context, request, response,
                                    std::move(done));
  }
};

// --- Mock actions --------------------------------------------------------

// What the backend was asked. Written by the mock (a gRPC thread) before
// `called` is notified; read by the test after waiting for it.
template <typename Rpc>
struct Seen {
  absl::Notification called;
  typename Rpc::Name name;
  typename Rpc::Request request;
  std::string request_id;
  absl::Time deadline;
  bool cancelled = true;
};

// Records the call, then completes it at once with `result`.
template <typename Rpc>
auto RecordThenComplete(Seen<Rpc>* seen,
                        absl::StatusOr<typename Rpc::Response> result) {
  return [seen, result = std::move(result)](
             std::shared_ptr<CallContext> ctx, const typename Rpc::Name& name,
             const typename Rpc::Request& request,
             Done<typename Rpc::Response> done) mutable {
    seen->name = name;
    seen->request = request;
    seen->request_id = ctx->request_id();
    seen->deadline = ctx->deadline();
    seen->cancelled = ctx->cancelled();
    seen->called.Notify();
    done(std::move(result));
  };
}

class Releasable {
 public:
  virtual ~Releasable() = default;
  virtual void ReleaseIfPending() = 0;
};

// A callback the mock keeps instead of completing: the test completes it
// when it chooses (exactly once). TearDown completes one a failed test left
// behind, so the server can always shut down.
template <typename Response>
class HeldDone final : public Releasable {
 public:
  // From the mock, on the gRPC thread that called the backend.
  void Hold(CallContext& ctx, Done<Response> done) {
    {
      absl::MutexLock lock(&mu_);
      done_ = std::move(done);
      holder_ = std::this_thread::get_id();
    }
    // What a real connection does to abandon its transfer: register with
    // the call's context, which the service cancels with the RPC.
    ctx.OnCancel(ctx.NextTicket(), [cancelled = cancelled_] {
      if (!cancelled->HasBeenNotified()) cancelled->Notify();
    });
    held_.Notify();
  }

  bool WaitHeld() { return held_.WaitForNotificationWithTimeout(kWait); }
  bool WaitCancelled() {
    return cancelled_->WaitForNotificationWithTimeout(kWait);
  }
  std::thread::id holder() {
    absl::MutexLock lock(&mu_);
    return holder_;
  }

  void Complete(absl::StatusOr<Response> result) {
    Done<Response> done = Take();
    if (done == nullptr) {
      ADD_FAILURE() << "no callback held";
      return;
    }
    done(std::move(result));
  }

  void ReleaseIfPending() override {
    if (Done<Response> done = Take(); done != nullptr) {
      done(absl::CancelledError("the test ended without completing it"));
    }
  }

 private:
  Done<Response> Take() {
    absl::MutexLock lock(&mu_);
    return std::exchange(done_, nullptr);
  }

  absl::Notification held_;
  const std::shared_ptr<absl::Notification> cancelled_ =
      std::make_shared<absl::Notification>();
  absl::Mutex mu_;
  Done<Response> done_ ABSL_GUARDED_BY(mu_);
  std::thread::id holder_ ABSL_GUARDED_BY(mu_);
};

template <typename Rpc>
auto HoldIn(std::shared_ptr<HeldDone<typename Rpc::Response>> held) {
  return
      [held](std::shared_ptr<CallContext> ctx, const typename Rpc::Name&,
             const typename Rpc::Request&, Done<typename Rpc::Response> done) {
        held->Hold(*ctx, std::move(done));
      };
}

// A call through the callback client API. The destructor cancels it if it
// is still running and waits for its callback, which writes into this.
template <typename Rpc>
class AsyncCall {
 public:
  AsyncCall(Stub& stub, typename Rpc::Request request)
      : request_(std::move(request)) {
    PrepareContext(context_);
    Rpc::Start(stub, &context_, &request_, &response_,
               [this](grpc::Status status) {
                 status_ = std::move(status);
                 finished_.Notify();
               });
  }
  ~AsyncCall() {
    if (!finished_.HasBeenNotified()) context_.TryCancel();
    finished_.WaitForNotification();
  }
  AsyncCall(const AsyncCall&) = delete;
  AsyncCall& operator=(const AsyncCall&) = delete;

  bool finished() const { return finished_.HasBeenNotified(); }
  bool Wait() { return finished_.WaitForNotificationWithTimeout(kWait); }
  // After Wait() returned true.
  const grpc::Status& status() const { return status_; }
  const typename Rpc::Response& response() const { return response_; }

 private:
  const typename Rpc::Request request_;
  grpc::ClientContext context_;
  typename Rpc::Response response_;
  grpc::Status status_;
  absl::Notification finished_;
};

// Any backend call no test expected: completes (so the RPC ends) and the
// strict mock reports it.
void CompleteUnexpectedCalls(MockBackendStub& mock) {
  ON_CALL(mock, CreateCertificate(_, _, _, _))
      .WillByDefault([](std::shared_ptr<CallContext>, const ParentName&,
                        const v1::CreateCertificateRequest&,
                        Done<v1::Certificate> done) {
        done(absl::InternalError("unexpected backend call"));
      });
  ON_CALL(mock, GetCertificate(_, _, _, _))
      .WillByDefault([](std::shared_ptr<CallContext>, const CertificateName&,
                        const v1::GetCertificateRequest&,
                        Done<v1::Certificate> done) {
        done(absl::InternalError("unexpected backend call"));
      });
  ON_CALL(mock, UpdateCertificate(_, _, _, _))
      .WillByDefault([](std::shared_ptr<CallContext>, const CertificateName&,
                        const v1::UpdateCertificateRequest&,
                        Done<v1::Certificate> done) {
        done(absl::InternalError("unexpected backend call"));
      });
  ON_CALL(mock, DeleteCertificate(_, _, _, _))
      .WillByDefault([](std::shared_ptr<CallContext>, const CertificateName&,
                        const v1::DeleteCertificateRequest&,
                        Done<v1::DeleteCertificateResponse> done) {
        done(absl::InternalError("unexpected backend call"));
      });
  ON_CALL(mock, RecoverCreate(_, _, _, _, _))
      .WillByDefault([](std::shared_ptr<CallContext>, const ParentName&,
                        const v1::CreateCertificateRequest&, absl::Status,
                        Done<v1::Certificate> done) {
        done(absl::InternalError("unexpected backend call"));
      });
}

// --- The fixture ------------------------------------------------------------

class CertificateServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lee = std::make_unique<StrictMock<MockBackendStub>>();
    auto api = std::make_unique<StrictMock<MockBackendStub>>();
    lee_ = lee.get();
    api_ = api.get();
    CompleteUnexpectedCalls(*lee_);
    CompleteUnexpectedCalls(*api_);
    registry_.Add(std::make_unique<BackendConnection>(
        "lee", BuiltinVendor("leegality"), std::move(lee)));
    registry_.Add(std::make_unique<BackendConnection>(
        "api", BuiltinVendor("apinizer"), std::move(api)));
    service_ =
        std::make_unique<CertificateServiceImpl>(registry_, ServiceOptions{});

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    stub_ = v1::CertificateService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    for (const auto& held : held_) held->ReleaseIfPending();
    if (server_ != nullptr) {
      server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      server_->Wait();
    }
  }

  MockBackendStub& mock(Kind kind) {
    return kind == Kind::kLeegality ? *lee_ : *api_;
  }

  template <typename Response>
  std::shared_ptr<HeldDone<Response>> MakeHeld() {
    auto held = std::make_shared<HeldDone<Response>>();
    held_.push_back(held);
    return held;
  }

  template <typename Rpc>
  grpc::Status Call(const typename Rpc::Request& request,
                    typename Rpc::Response* response) {
    grpc::ClientContext context;
    PrepareContext(context);
    return Rpc::Call(*stub_, &context, request, response);
  }

  // A request refused before any backend I/O: INVALID_ARGUMENT with one
  // ErrorInfo (`reason`, the call's request id) and one BadRequest
  // violation naming `field`, which the message starts with.
  template <typename Rpc>
  void ExpectRefused(const typename Rpc::Request& request,
                     absl::string_view expected_reason,
                     absl::string_view field) {
    typename Rpc::Response response;
    const RpcError e = Decode(Call<Rpc>(request, &response));
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT) << e.message;
    EXPECT_TRUE(e.details_parsed);
    EXPECT_EQ(e.details_code, static_cast<int>(e.code));
    EXPECT_EQ(e.details_message, e.message);
    EXPECT_EQ(e.error_info_count, 1);
    EXPECT_EQ(e.reason, expected_reason) << e.message;
    EXPECT_EQ(e.domain, kErrorDomain);
    EXPECT_THAT(e.metadata, Contains(Pair("requestId", kRequestId)));
    EXPECT_THAT(e.violation_fields, ElementsAre(std::string(field)));
    EXPECT_TRUE(absl::StartsWith(e.message, absl::StrCat(field, ": ")))
        << e.message;
    EXPECT_FALSE(e.retry_delay.has_value());
    EXPECT_EQ(e.other_details, 0);
  }

  // Declaration order is teardown order, reversed: the server goes before
  // the service, the service before the registry (and its mocks).
  BackendRegistry registry_;
  StrictMock<MockBackendStub>* lee_ = nullptr;
  StrictMock<MockBackendStub>* api_ = nullptr;
  std::unique_ptr<CertificateServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Stub> stub_;
  std::vector<std::shared_ptr<Releasable>> held_;
};

// --- Every handler: routing, pass-through, completion threads, deadlines ----

template <typename Rpc>
class CertificateRpcTest : public CertificateServiceTest {
 protected:
  // A valid request for `kind` reaches that backend's mock only, once, with
  // the parsed name, the request as sent, the caller's request id and
  // deadline; the mock's answer is the response.
  void ExpectRoutedTo(Kind kind) {
    const Kind other =
        kind == Kind::kLeegality ? Kind::kApinizer : Kind::kLeegality;
    const typename Rpc::Request request = Rpc::Valid(kind);
    const typename Rpc::Response reply = Rpc::Reply(kind);
    Seen<Rpc> seen;
    Rpc::Expect(mock(kind)).WillOnce(RecordThenComplete<Rpc>(&seen, reply));
    Rpc::Expect(mock(other)).Times(0);

    grpc::ClientContext context;
    const absl::Time deadline = PrepareContext(context);
    typename Rpc::Response response;
    const grpc::Status status = Rpc::Call(*stub_, &context, request, &response);
    ASSERT_TRUE(status.ok())
        << status.error_code() << " " << status.error_message();
    EXPECT_TRUE(SameProto(response, reply));

    ASSERT_TRUE(seen.called.WaitForNotificationWithTimeout(kWait));
    ExpectSameName(seen.name, Rpc::Parsed(kind));
    EXPECT_TRUE(SameProto(seen.request, request));
    EXPECT_EQ(seen.request_id, kRequestId);
    // The caller's deadline, not the service's 60 s default.
    EXPECT_LT(absl::AbsDuration(seen.deadline - deadline), absl::Seconds(5));
    EXPECT_FALSE(seen.cancelled);
    // The id is echoed to the caller too.
    const auto& initial = context.GetServerInitialMetadata();
    auto id = initial.find("x-request-id");
    ASSERT_NE(id, initial.end());
    EXPECT_EQ(std::string(id->second.data(), id->second.size()), kRequestId);
  }

  // The backend completes with `error`: the caller gets its code, message
  // and details, the ErrorInfo gaining only the call's request id.
  void ExpectPassedThrough(Kind kind, const absl::Status& error) {
    Seen<Rpc> seen;
    Rpc::Expect(mock(kind)).WillOnce(RecordThenComplete<Rpc>(&seen, error));
    typename Rpc::Response response;
    const RpcError e = Decode(Call<Rpc>(Rpc::Valid(kind), &response));
    EXPECT_TRUE(seen.called.HasBeenNotified());

    EXPECT_EQ(static_cast<int>(e.code), static_cast<int>(error.code()));
    EXPECT_EQ(e.message, error.message());
    ASSERT_TRUE(e.details_parsed);
    EXPECT_EQ(e.details_code, static_cast<int>(error.code()));
    EXPECT_EQ(e.details_message, error.message());
    const std::optional<ErrorInfo> sent = GetErrorInfo(error);
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ(e.error_info_count, 1);
    EXPECT_EQ(e.reason, sent->reason);
    EXPECT_EQ(e.domain, sent->domain);
    std::map<std::string, std::string> metadata = sent->metadata;
    metadata["requestId"] = kRequestId;
    EXPECT_EQ(e.metadata, metadata);
    EXPECT_EQ(e.retry_delay, GetRetryDelay(error));
    EXPECT_TRUE(e.violation_fields.empty());
    EXPECT_EQ(e.other_details, 0);
  }
};

class RpcNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kMethod;
  }
};

using Rpcs = ::testing::Types<CreateRpc, GetRpc, UpdateRpc, DeleteRpc>;
TYPED_TEST_SUITE(CertificateRpcTest, Rpcs, RpcNames);

TYPED_TEST(CertificateRpcTest, RoutesLeegalityNameToLeeOnly) {
  this->ExpectRoutedTo(Kind::kLeegality);
}

TYPED_TEST(CertificateRpcTest, RoutesApinizerNameToApiOnly) {
  this->ExpectRoutedTo(Kind::kApinizer);
}

TYPED_TEST(CertificateRpcTest, BackendNotFoundReachesCallerUnchanged) {
  this->ExpectPassedThrough(
      Kind::kLeegality,
      MakeError(absl::StatusCode::kNotFound,
                "SignStation has no such certificate (HTTP 404)",
                reason::kCertificateNotFound,
                {{metadata::kBackend, "lee"},
                 {metadata::kHttpStatus, "404"},
                 {metadata::kBackendCode, "CERT_NOT_FOUND"}}));
}

TYPED_TEST(CertificateRpcTest, BackendUnavailableKeepsItsRetryInfo) {
  absl::Status error = MakeError(absl::StatusCode::kUnavailable,
                                 "Apinizer is unavailable (HTTP 503)",
                                 reason::kBackendUnavailable,
                                 {{metadata::kBackend, "api"},
                                  {metadata::kHttpStatus, "503"},
                                  {metadata::kAttempts, "3"}});
  SetRetryDelay(error, absl::Milliseconds(1500));
  this->ExpectPassedThrough(Kind::kApinizer, error);
}

TYPED_TEST(CertificateRpcTest, CompletionLaterOnAnotherThreadFinishesTheRpc) {
  using Rpc = TypeParam;
  auto held = this->template MakeHeld<typename Rpc::Response>();
  Rpc::Expect(this->mock(Kind::kApinizer)).WillOnce(HoldIn<Rpc>(held));

  AsyncCall<Rpc> call(*this->stub_, Rpc::Valid(Kind::kApinizer));
  ASSERT_TRUE(held->WaitHeld());
  // The backend call has returned without completing: nothing else can
  // finish the RPC.
  EXPECT_FALSE(call.finished());

  const typename Rpc::Response reply = Rpc::Reply(Kind::kApinizer);
  std::thread::id completer;
  std::thread backend([&] {
    completer = std::this_thread::get_id();
    held->Complete(reply);
  });
  backend.join();
  EXPECT_NE(completer, held->holder());

  ASSERT_TRUE(call.Wait());
  EXPECT_TRUE(call.status().ok()) << call.status().error_message();
  EXPECT_TRUE(SameProto(call.response(), reply));
}

TYPED_TEST(CertificateRpcTest, CompletionAfterTheDeadlineIsHarmless) {
  using Rpc = TypeParam;
  auto held = this->template MakeHeld<typename Rpc::Response>();
  Rpc::Expect(this->mock(Kind::kLeegality)).WillOnce(HoldIn<Rpc>(held));

  {
    grpc::ClientContext context;
    PrepareContext(context, kShortDeadline);
    typename Rpc::Response response;
    const grpc::Status status = Rpc::Call(
        *this->stub_, &context, Rpc::Valid(Kind::kLeegality), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << status.error_message();
  }
  ASSERT_TRUE(held->WaitHeld());
  // The server saw the deadline: the call's context was cancelled, which is
  // what a real connection abandons its transfer on.
  EXPECT_TRUE(held->WaitCancelled());

  // The backend answers after all, into an RPC nobody waits for: no crash
  // (under ASan: no use after free of the reactor or the response).
  held->Complete(Rpc::Reply(Kind::kLeegality));

  // And the server goes on serving the same method.
  Seen<Rpc> seen;
  const typename Rpc::Response reply = Rpc::Reply(Kind::kLeegality);
  Rpc::Expect(this->mock(Kind::kLeegality))
      .WillOnce(RecordThenComplete<Rpc>(&seen, reply));
  typename Rpc::Response response;
  const grpc::Status status =
      this->template Call<Rpc>(Rpc::Valid(Kind::kLeegality), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(SameProto(response, reply));
}

// --- Validation: refused before the backend, which is never called ----------

template <typename Request>
struct Refusal {
  const char* what;
  Request request;
  const char* reason;
  const char* field;
};

TEST_F(CertificateServiceTest, CreateRefusalsNeverReachABackend) {
  EXPECT_CALL(*lee_, CreateCertificate(_, _, _, _)).Times(0);
  EXPECT_CALL(*api_, CreateCertificate(_, _, _, _)).Times(0);
  using R = v1::CreateCertificateRequest;
  std::vector<Refusal<R>> cases;
  auto lee = [&](const char* what, const char* reason, const char* field,
                 const std::function<void(R&)>& edit) {
    R r = LeegalityCreate();
    edit(r);
    cases.push_back({what, std::move(r), reason, field});
  };
  auto api = [&](const char* what, const char* reason, const char* field,
                 const std::function<void(R&)>& edit) {
    R r = ApinizerCreate();
    edit(r);
    cases.push_back({what, std::move(r), reason, field});
  };
  lee("empty parent", reason::kInvalidName, "parent",
      [](R& r) { r.clear_parent(); });
  lee("parent not under backends/", reason::kInvalidName, "parent",
      [](R& r) { r.set_parent("projects/p"); });
  lee("unknown backend", reason::kInvalidName, "parent",
      [](R& r) { r.set_parent("backends/nope"); });
  lee("Leegality parent with a project", reason::kInvalidName, "parent",
      [](R& r) { r.set_parent("backends/lee/projects/p"); });
  api("Apinizer parent without a project", reason::kInvalidName, "parent",
      [](R& r) { r.set_parent("backends/api"); });
  lee("no certificate", reason::kInvalidArgument, "certificate",
      [](R& r) { r.clear_certificate(); });
  lee("request_id not a UUID", reason::kInvalidArgument, "request_id",
      [](R& r) { r.set_request_id("not-a-uuid"); });
  lee("Leegality create without its vendor message", reason::kInvalidArgument,
      "certificate.leegality", [](R& r) {
        r.mutable_certificate()->clear_leegality();
        r.mutable_certificate()->set_display_name("x");
      });
  lee("Leegality create with an Apinizer message", reason::kInvalidArgument,
      "certificate.apinizer", [](R& r) {
        r.mutable_certificate()->mutable_apinizer()->set_alias("a");
      });
  lee("Leegality create choosing its id", reason::kInvalidArgument,
      "certificate_id", [](R& r) { r.set_certificate_id("mine"); });
  lee("department not a UUID", reason::kInvalidArgument,
      "certificate.leegality.department_id", [](R& r) {
        r.mutable_certificate()->mutable_leegality()->set_department_id("hr");
      });
  lee("file name not .p12/.pfx", reason::kInvalidArgument,
      "certificate.leegality.file_name", [](R& r) {
        r.mutable_certificate()->mutable_leegality()->set_file_name("a.pem");
      });
  lee("no PKCS#12 file", reason::kInvalidArgument,
      "certificate.leegality.pkcs12_file", [](R& r) {
        r.mutable_certificate()->mutable_leegality()->clear_pkcs12_file();
      });
  lee("wrong passkey", reason::kInvalidPkcs12,
      "certificate.leegality.pkcs12_file", [](R& r) {
        r.mutable_certificate()->mutable_leegality()->set_passkey("wrong");
      });
  api("Apinizer create without its vendor message", reason::kInvalidArgument,
      "certificate.apinizer", [](R& r) {
        r.mutable_certificate()->clear_apinizer();
        r.mutable_certificate()->set_display_name("x");
      });
  api("Apinizer create with a Leegality message", reason::kInvalidArgument,
      "certificate.leegality", [](R& r) {
        r.mutable_certificate()->mutable_leegality()->set_passkey("p");
      });
  api("Apinizer create without an id", reason::kInvalidArgument,
      "certificate_id", [](R& r) { r.clear_certificate_id(); });
  api("Apinizer id that is no name segment", reason::kInvalidName,
      "certificate_id", [](R& r) { r.set_certificate_id(".."); });
  api("environment with a comma", reason::kInvalidArgument,
      "certificate.apinizer.environments", [](R& r) {
        r.mutable_certificate()->mutable_apinizer()->add_environments("a,b");
      });
  api("PEM that is no certificate", reason::kInvalidPem,
      "certificate.apinizer.pem_certificate", [](R& r) {
        r.mutable_certificate()->mutable_apinizer()->set_pem_certificate(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
      });
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused<CreateRpc>(c.request, c.reason, c.field);
  }
}

TEST_F(CertificateServiceTest, GetRefusalsNeverReachABackend) {
  EXPECT_CALL(*lee_, GetCertificate(_, _, _, _)).Times(0);
  EXPECT_CALL(*api_, GetCertificate(_, _, _, _)).Times(0);
  const std::vector<std::pair<const char*, std::string>> names = {
      {"empty", ""},
      {"not under backends/", "certificates/x"},
      {"Leegality id not a UUID", "backends/lee/certificates/not-a-uuid"},
      {"unknown backend", absl::StrCat("backends/nope/certificates/", kLeeId)},
      {"Apinizer name without a project", "backends/api/certificates/x"},
      {"Leegality name with a project",
       absl::StrCat("backends/lee/projects/p/certificates/", kLeeId)},
      {"dot-dot segment", "backends/api/projects/p/certificates/.."},
      {"escaped slash", "backends/api/projects/p/certificates/a%2Fb"},
  };
  for (const auto& [what, name] : names) {
    SCOPED_TRACE(what);
    v1::GetCertificateRequest r;
    r.set_name(name);
    ExpectRefused<GetRpc>(r, reason::kInvalidName, "name");
  }
}

TEST_F(CertificateServiceTest, UpdateRefusalsNeverReachABackend) {
  EXPECT_CALL(*lee_, UpdateCertificate(_, _, _, _)).Times(0);
  EXPECT_CALL(*api_, UpdateCertificate(_, _, _, _)).Times(0);
  using R = v1::UpdateCertificateRequest;
  std::vector<Refusal<R>> cases;
  auto lee = [&](const char* what, const char* reason, const char* field,
                 const std::function<void(R&)>& edit) {
    R r = LeegalityUpdate();
    edit(r);
    cases.push_back({what, std::move(r), reason, field});
  };
  auto api = [&](const char* what, const char* reason, const char* field,
                 const std::function<void(R&)>& edit) {
    R r = ApinizerUpdate();
    edit(r);
    cases.push_back({what, std::move(r), reason, field});
  };
  lee("no certificate (so no name)", reason::kInvalidName, "certificate.name",
      [](R& r) { r.clear_certificate(); });
  lee("Leegality id not a UUID", reason::kInvalidName, "certificate.name",
      [](R& r) {
        r.mutable_certificate()->set_name("backends/lee/certificates/x");
      });
  lee("unknown backend", reason::kInvalidName, "certificate.name", [](R& r) {
    r.mutable_certificate()->set_name(
        absl::StrCat("backends/nope/certificates/", kLeeId));
  });
  api("Apinizer name without a project", reason::kInvalidName,
      "certificate.name", [](R& r) {
        r.mutable_certificate()->set_name("backends/api/certificates/x");
      });
  lee("no update_mask", reason::kInvalidArgument, "update_mask",
      [](R& r) { r.clear_update_mask(); });
  lee("mask path of the other vendor", reason::kInvalidArgument, "update_mask",
      [](R& r) { r.mutable_update_mask()->add_paths("apinizer.alias"); });
  lee("Leegality update without its vendor message", reason::kInvalidArgument,
      "certificate.leegality",
      [](R& r) { r.mutable_certificate()->clear_leegality(); });
  lee("JWK action on Leegality", reason::kInvalidArgument, "jwk_update_action",
      [](R& r) { r.set_jwk_update_action(v1::JWK_UPDATE_ACTION_UPDATE); });
  lee("enabled in the mask but not set", reason::kInvalidArgument,
      "certificate.leegality.enabled", [](R& r) {
        r.mutable_certificate()->mutable_leegality()->clear_enabled();
      });
  lee("passkey without a new file", reason::kInvalidArgument, "update_mask",
      [](R& r) {
        r.mutable_update_mask()->clear_paths();
        r.mutable_update_mask()->add_paths("leegality.passkey");
      });
  lee("wrong passkey", reason::kInvalidPkcs12,
      "certificate.leegality.pkcs12_file", [](R& r) {
        r.mutable_certificate()->mutable_leegality()->set_passkey("wrong");
      });
  api("Apinizer update with a Leegality message", reason::kInvalidArgument,
      "certificate.leegality", [](R& r) {
        r.mutable_certificate()->mutable_leegality()->set_enabled(true);
      });
  api("JWK scope without the UPDATE action", reason::kInvalidArgument,
      "jwk_update_scope",
      [](R& r) { r.set_jwk_update_action(v1::JWK_UPDATE_ACTION_NULLIFY); });
  api("PEM that is no certificate", reason::kInvalidPem,
      "certificate.apinizer.pem_certificate", [](R& r) {
        r.mutable_certificate()->mutable_apinizer()->set_pem_certificate(
            "not a certificate");
      });
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused<UpdateRpc>(c.request, c.reason, c.field);
  }
}

TEST_F(CertificateServiceTest, DeleteRefusalsNeverReachABackend) {
  EXPECT_CALL(*lee_, DeleteCertificate(_, _, _, _)).Times(0);
  EXPECT_CALL(*api_, DeleteCertificate(_, _, _, _)).Times(0);
  using R = v1::DeleteCertificateRequest;
  std::vector<Refusal<R>> cases;
  auto add = [&](const char* what, R r, const char* reason, const char* field) {
    cases.push_back({what, std::move(r), reason, field});
  };
  R r;
  r.set_name("backends/lee/certificates/not-a-uuid");
  add("Leegality id not a UUID", r, reason::kInvalidName, "name");
  r.set_name(absl::StrCat("backends/nope/certificates/", kLeeId));
  add("unknown backend", r, reason::kInvalidName, "name");
  r.set_name("backends/api/certificates/bank-root");
  add("Apinizer name without a project", r, reason::kInvalidName, "name");
  r = DeleteRpc::Valid(Kind::kLeegality);
  r.set_jwk_delete_action(v1::JWK_DELETE_ACTION_DELETE);
  add("JWK action on Leegality", r, reason::kInvalidArgument,
      "jwk_delete_action");
  r = DeleteRpc::Valid(Kind::kApinizer);
  r.set_jwk_delete_action(static_cast<v1::JwkDeleteAction>(99));
  add("unknown JWK action", r, reason::kInvalidArgument, "jwk_delete_action");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused<DeleteRpc>(c.request, c.reason, c.field);
  }
}

}  // namespace
}  // namespace certbridge
