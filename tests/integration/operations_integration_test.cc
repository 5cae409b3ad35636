// What operators rely on (docs/metrics.md): /metrics with the
// documented names and labels, health for the server and the service,
// graceful shutdown, reflection, and one access log line per RPC.
#include <gmock/gmock.h>
#include <grpc/support/log.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "server/app/grpc_log.h"
#include "server/common/log.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";

HarnessOptions WithMetrics() {
  HarnessOptions o;
  o.configure = [](ServerConfig& c) {
    c.metrics_address = "127.0.0.1:0";
    c.backends[0].retry.initial_backoff = absl::Milliseconds(5);
  };
  return o;
}

grpc::Status Get(Harness& h, const std::string& name, v1::Certificate* out,
                 absl::Duration timeout = absl::Seconds(10)) {
  v1::GetCertificateRequest r;
  r.set_name(name);
  auto ctx = Harness::Context(timeout);
  return h.stub().GetCertificate(ctx.get(), r, out);
}

TEST(OperationsTest, MetricsUseTheDocumentedNamesAndLabels) {
  auto h = Harness::Start(WithMetrics());
  ASSERT_NE(h, nullptr);
  ASSERT_GT(h->server().metrics_port(), 0);
  v1::Certificate created;
  {
    auto ctx = Harness::Context();
    ASSERT_TRUE(h->stub()
                    .CreateCertificate(
                        ctx.get(), LeegalityCreateRequest("m.p12"), &created)
                    .ok());
  }
  v1::Certificate out;
  ASSERT_TRUE(Get(*h, created.name(), &out).ok());
  const std::string missing =
      std::string(kLeegalityParent) + "/certificates/" + kMissingId;
  EXPECT_EQ(Get(*h, missing, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  emulator::FaultSpec unavailable;
  unavailable.method = "GET";
  unavailable.status = 503;
  h->emulator().AddFault(unavailable);
  ASSERT_TRUE(Get(*h, created.name(), &out).ok());

  const std::string text = ScrapeMetrics(h->server().metrics_port());
  const std::string labels =
      R"(grpc_method="GetCertificate",grpc_service="certbridge.v1.CertificateService",grpc_type="unary")";
  EXPECT_THAT(text,
              HasSubstr(R"(grpc_server_started_total{)" + labels + "} 3"));
  EXPECT_THAT(text, HasSubstr(R"(grpc_server_handled_total{grpc_code="OK",)" +
                              labels + "} 2"));
  EXPECT_THAT(text,
              HasSubstr(R"(grpc_server_handled_total{grpc_code="NotFound",)" +
                        labels + "} 1"));
  // Every method x code exists from the start, at 0.
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(grpc_server_handled_total{grpc_code="Unavailable",grpc_method="DeleteCertificate",grpc_service="certbridge.v1.CertificateService",grpc_type="unary"} 0)"));
  EXPECT_THAT(text, HasSubstr(R"(grpc_server_handling_seconds_bucket{)" +
                              labels + R"(,le="30"} 3)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_requests_total{backend="leegality",code="404",error="none",operation="get"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_requests_total{backend="leegality",code="503",error="none",operation="get"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_requests_total{backend="leegality",code="201",error="none",operation="create"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_retries_total{backend="leegality",operation="get",reason="BACKEND_UNAVAILABLE"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_request_duration_seconds_bucket{backend="leegality",operation="get",le="0.005"})"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(certbridge_backend_circuit_state{backend="leegality"} 0)"));
  EXPECT_THAT(
      text, HasSubstr(R"(certbridge_backend_inflight{backend="apinizer"} 0)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_retry_throttled_total{backend="leegality"} 0)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_rejected_total{backend="leegality",reason="overloaded"} 0)"));
  EXPECT_THAT(text, HasSubstr(R"(certbridge_build_info{revision=")"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_deployment_failures_total{backend="apinizer",operation="create"} 0)"));
  // Issue 11 finding 13: the process metrics operators expect.
  for (const char* name :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
        "process_virtual_memory_bytes ", "process_open_fds ",
        "process_max_fds ", "process_start_time_seconds ",
        "process_threads "}) {
    EXPECT_THAT(text, HasSubstr(std::string("\n") + name)) << name;
  }
  // Never ids, names or URLs as label values.
  EXPECT_THAT(text, Not(HasSubstr(kMissingId)));
  EXPECT_THAT(text, Not(HasSubstr(created.leegality().id())));
  EXPECT_THAT(text, Not(HasSubstr("127.0.0.1")));
}

TEST(OperationsTest, HealthServesBothNamesAndTurnsNotServingOnShutdown) {
  auto h = Harness::Start();
  ASSERT_NE(h, nullptr);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(h->server().port()),
                          grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  for (const char* service : {"", "certbridge.v1.CertificateService"}) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    auto ctx = Harness::Context();
    ASSERT_TRUE(health->Check(ctx.get(), req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
  // A watcher (as a load balancer would hold) sees NOT_SERVING as soon as
  // shutdown begins, while a slow call is still draining. The backend holds
  // that call far longer than the steps below take.
  emulator::FaultSpec slow;
  slow.method = "GET";
  slow.delay_ms = 3000;
  h->emulator().AddFault(slow);
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("certbridge.v1.CertificateService");
  auto watch_ctx = Harness::Context();
  auto watch = health->Watch(watch_ctx.get(), req);
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  grpc::Status slow_status;
  std::atomic<bool> slow_done{false};
  std::thread slow_call([&] {
    v1::Certificate out;
    slow_status =
        Get(*h, std::string(kLeegalityParent) + "/certificates/" + kMissingId,
            &out, absl::Seconds(30));
    slow_done = true;
  });
  // Shut down once the slow call is in flight: the backend has it. (No
  // ASSERTs from here on: returning would leave threads unjoined.)
  EXPECT_TRUE(h->emulator().WaitForRequest(
      [](const emulator::RecordedRequest& r) { return r.method == "GET"; },
      absl::Seconds(30)));
  const absl::Time start = absl::Now();
  std::thread shutdown([&] { h->server().Shutdown(absl::Seconds(30)); });
  EXPECT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  // "As soon as": before the call it waits for has drained (the event),
  // and well inside a generous bound (a few ms are usual).
  EXPECT_FALSE(slow_done) << "NOT_SERVING only after the drain";
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // Done watching; an open watch would hold Shutdown for its whole grace.
  watch_ctx->TryCancel();
  // New calls are refused while the slow one drains, and never reach the
  // backend. Health flips first, then gRPC's Shutdown starts refusing: wait
  // for that by polling Health/Check on the main listener (it reaches no
  // backend) until it is refused too.
  {
    grpc::health::v1::HealthCheckRequest check;
    grpc::health::v1::HealthCheckResponse ignored;
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    grpc::Status checked;
    while (absl::Now() < give_up) {
      auto ctx = Harness::Context(absl::Seconds(5));
      checked = health->Check(ctx.get(), check, &ignored);
      if (!checked.ok()) break;
      absl::SleepFor(absl::Milliseconds(10));  // polling, bounded by give_up
    }
    EXPECT_FALSE(checked.ok()) << "gRPC never began refusing calls";
  }
  v1::Certificate out;
  const grpc::Status refused =
      Get(*h, std::string(kLeegalityParent) + "/certificates/" + kMissingId,
          &out, absl::Seconds(10));
  EXPECT_TRUE(refused.error_code() == grpc::StatusCode::UNAVAILABLE ||
              refused.error_code() == grpc::StatusCode::CANCELLED)
      << refused.error_code();
  EXPECT_FALSE(slow_done) << "refused only after the drain";
  EXPECT_EQ(h->emulator().Requests().size(), 1u);
  slow_call.join();
  shutdown.join();
  // The in-flight call finished normally (404 from the emulator).
  EXPECT_EQ(slow_status.error_code(), grpc::StatusCode::NOT_FOUND)
      << slow_status.error_message();
}

// Issue 11 finding 5: during the drain delay the server says NOT_SERVING to
// anyone who asks, and still serves every call -- on new connections too --
// so callers that have not yet seen the endpoint removal lose nothing.
TEST(OperationsTest, DrainDelayKeepsServingWhileReportingNotServing) {
  auto h = Harness::Start();
  ASSERT_NE(h, nullptr);
  const std::string target = "127.0.0.1:" + std::to_string(h->server().port());
  // The drain delay is time the test needs to pass (Shutdown sleeps
  // through it); the checks below take a few ms each, so 5 s leaves a
  // loaded machine plenty of room.
  std::thread shutdown([&] {
    h->server().Shutdown(/*drain_delay=*/absl::Seconds(5),
                         /*grace=*/absl::Seconds(2));
  });
  const std::string name =
      std::string(kLeegalityParent) + "/certificates/" + kMissingId;
  {
    // Shutdown has begun once health says so.
    auto health = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    grpc::health::v1::HealthCheckResponse resp;
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (absl::Now() < give_up) {
      grpc::health::v1::HealthCheckRequest req;
      auto ctx = Harness::Context();
      const grpc::Status checked = health->Check(ctx.get(), req, &resp);
      if (!checked.ok() ||
          resp.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(5));  // polling, bounded by give_up
    }
    if (resp.status() != grpc::health::v1::HealthCheckResponse::NOT_SERVING) {
      ADD_FAILURE() << "health never turned NOT_SERVING";
      shutdown.join();
      return;
    }
  }
  int not_serving_seen = 0, calls_served = 0;
  // Several fresh connections during the delay.
  for (int i = 0; i < 5; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // no subchannel sharing
    auto channel = grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args);
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    auto ctx = Harness::Context();
    EXPECT_TRUE(health->Check(ctx.get(), req, &resp).ok());  // no ASSERT:
    // returning would leave the shutdown thread unjoined.
    if (resp.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING) {
      ++not_serving_seen;
    }
    auto stub = v1::CertificateService::NewStub(channel);
    v1::GetCertificateRequest get;
    get.set_name(name);
    v1::Certificate out;
    auto call_ctx = Harness::Context();
    // The backend answers NOT_FOUND: the call was served, not refused.
    if (stub->GetCertificate(call_ctx.get(), get, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND) {
      ++calls_served;
    }
  }
  shutdown.join();
  EXPECT_EQ(not_serving_seen, 5);
  EXPECT_EQ(calls_served, 5);
  EXPECT_EQ(h->emulator().Requests().size(), 5u);
}

TEST(OperationsTest, ShutdownCancelsCallsStillRunningAfterTheGracePeriod) {
  auto h = Harness::Start();
  ASSERT_NE(h, nullptr);
  // The backend would hold the call for a minute, as would its deadline.
  emulator::FaultSpec slow;
  slow.method = "GET";
  slow.delay_ms = 60000;
  h->emulator().AddFault(slow);
  grpc::Status status;
  std::thread call([&] {
    v1::Certificate out;
    status =
        Get(*h, std::string(kLeegalityParent) + "/certificates/" + kMissingId,
            &out, absl::Seconds(60));
  });
  // Shut down once the call is in flight: the backend has it.
  const bool arrived = h->emulator().WaitForRequest(
      [](const emulator::RecordedRequest& r) { return r.method == "GET"; },
      absl::Seconds(30));
  EXPECT_TRUE(arrived);
  const absl::Time start = absl::Now();
  h->server().Shutdown(absl::Milliseconds(300));
  call.join();
  // Cancelled at the end of the 300 ms grace, not left to run for the
  // minute: a bound of 30x the grace, still far from the minute.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_NE(status.error_code(), grpc::StatusCode::OK);
  EXPECT_NE(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The backend transfer was aborted, not left running.
  EXPECT_TRUE(h->emulator().WaitForRequest(
      [](const emulator::RecordedRequest& r) { return r.client_closed; },
      absl::Seconds(30)));
}

TEST(OperationsTest, ReflectionListsTheService) {
  auto h = Harness::Start();
  ASSERT_NE(h, nullptr);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(h->server().port()),
                          grpc::InsecureChannelCredentials());
  auto reflection =
      grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  auto ctx = Harness::Context();
  auto stream = reflection->ServerReflectionInfo(ctx.get());
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) {
    names.push_back(s.name());
  }
  EXPECT_THAT(names, ::testing::Contains("certbridge.v1.CertificateService"));
  stream->WritesDone();
}

// Issue 11 finding 13: grpc.reflection.v1, which current tools try first,
// is served next to the deprecated v1alpha, and describes the API.
TEST(OperationsTest, ReflectionV1DescribesTheService) {
  auto h = Harness::Start();
  ASSERT_NE(h, nullptr);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(h->server().port()),
                          grpc::InsecureChannelCredentials());
  auto reflection = grpc::reflection::v1::ServerReflection::NewStub(channel);
  auto ctx = Harness::Context();
  auto stream = reflection->ServerReflectionInfo(ctx.get());
  grpc::reflection::v1::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  grpc::reflection::v1::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) {
    names.push_back(s.name());
  }
  EXPECT_THAT(names, ::testing::Contains("certbridge.v1.CertificateService"));
  EXPECT_THAT(names,
              ::testing::Contains("grpc.reflection.v1.ServerReflection"));
  req.set_file_containing_symbol("certbridge.v1.CertificateService");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_GT(resp.file_descriptor_response().file_descriptor_proto_size(), 0);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(
      resp.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "certbridge/v1/certificate_service.proto");
  ASSERT_EQ(file.service_size(), 1);
  EXPECT_EQ(file.service(0).method_size(), 5);  // Create Get Update Delete List
  req.set_file_containing_symbol("no.such.Symbol");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.error_response().error_code(),
            static_cast<int>(grpc::StatusCode::NOT_FOUND));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// Reflection is switchable per server although gRPC registers its plugin
// process-wide: a server with reflection off next to one with it on.
TEST(OperationsTest, ReflectionCanBeSwitchedOff) {
  auto with = Harness::Start();
  ASSERT_NE(with, nullptr);
  HarnessOptions o;
  o.configure = [](ServerConfig& c) { c.reflection = false; };
  auto h = Harness::Start(o);
  ASSERT_NE(h, nullptr);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(h->server().port()),
                          grpc::InsecureChannelCredentials());
  auto reflection =
      grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  auto ctx = Harness::Context();
  auto stream = reflection->ServerReflectionInfo(ctx.get());
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  stream->Write(req);
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  auto v1 = grpc::reflection::v1::ServerReflection::NewStub(channel);
  auto v1_ctx = Harness::Context();
  auto v1_stream = v1->ServerReflectionInfo(v1_ctx.get());
  grpc::reflection::v1::ServerReflectionRequest v1_req;
  v1_req.set_list_services("");
  v1_stream->Write(v1_req);
  grpc::reflection::v1::ServerReflectionResponse v1_resp;
  EXPECT_FALSE(v1_stream->Read(&v1_resp));
  EXPECT_EQ(v1_stream->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

// Issue 11 finding 8: one access line per RPC, at a level that says whose
// problem it is, with the code as metrics spell it, integer microseconds,
// the caller's address and identity, and the request id -- which is also
// returned to the caller.
TEST(OperationsTest, OneAccessLinePerRpcWithTheCallersRequestId) {
  std::mutex mu;
  std::vector<std::string> lines;
  Logger::Get().SetSink([&](absl::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  std::string generated_id;
  std::string created_name;
  {
    auto h = Harness::Start();
    ASSERT_NE(h, nullptr);
    v1::GetCertificateRequest r;
    r.set_name(std::string(kLeegalityParent) + "/certificates/" + kMissingId);
    v1::Certificate out;
    auto ctx = Harness::Context();
    ctx->AddMetadata("x-request-id", "trace-7781");
    const grpc::Status missing = h->stub().GetCertificate(ctx.get(), r, &out);
    EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
    const auto requests = h->emulator().Requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].headers.at("x-request-id"), "trace-7781");
    // The id comes back in the response metadata (a failure's trailers, so
    // the response stays Trailers-Only and retryable) and in the ErrorInfo.
    EXPECT_TRUE(ctx->GetServerInitialMetadata().empty());
    auto echoed = ctx->GetServerTrailingMetadata().find("x-request-id");
    ASSERT_NE(echoed, ctx->GetServerTrailingMetadata().end());
    EXPECT_EQ(std::string(echoed->second.data(), echoed->second.size()),
              "trace-7781");
    EXPECT_EQ(DecodeRpcError(missing).metadata["requestId"], "trace-7781");

    // Without one, certbridge makes one and says which.
    auto create_ctx = Harness::Context();
    ASSERT_TRUE(h->stub()
                    .CreateCertificate(create_ctx.get(),
                                       LeegalityCreateRequest("log.p12"), &out)
                    .ok());
    created_name = out.name();
    auto made = create_ctx->GetServerInitialMetadata().find("x-request-id");
    ASSERT_NE(made, create_ctx->GetServerInitialMetadata().end());
    generated_id = std::string(made->second.data(), made->second.size());
    EXPECT_EQ(generated_id.size(), 36u);

    // A backend failure is logged louder than a caller's mistake.
    emulator::FaultSpec broken;
    broken.method = "GET";
    broken.status = 500;
    broken.times = 5;
    h->emulator().AddFault(broken);
    auto failing_ctx = Harness::Context();
    EXPECT_EQ(h->stub().GetCertificate(failing_ctx.get(), r, &out).error_code(),
              grpc::StatusCode::INTERNAL);
  }
  Logger::Get().SetSink(nullptr);
  std::vector<nlohmann::json> access;
  for (const auto& line : lines) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("msg", "") == "rpc") access.push_back(j);
  }
  ASSERT_EQ(access.size(), 3u);
  const auto& j = access[0];
  EXPECT_EQ(j["method"], "GetCertificate");
  EXPECT_EQ(j["backend"], "leegality");
  EXPECT_EQ(j["resource"],
            std::string(kLeegalityParent) + "/certificates/" + kMissingId);
  EXPECT_EQ(j["code"], "NotFound") << "as grpc_server_handled_total spells it";
  EXPECT_EQ(j["attempts"], 1);
  EXPECT_TRUE(j["latency_us"].is_number_integer());
  EXPECT_EQ(j["request_id"], "trace-7781");
  EXPECT_EQ(j["reason"], "CERTIFICATE_NOT_FOUND");
  EXPECT_THAT(j["peer"].get<std::string>(), HasSubstr("127.0.0.1"));
  EXPECT_TRUE(j.contains("time"));
  EXPECT_EQ(j["level"], "info") << "the caller asked for something missing";
  EXPECT_EQ(access[1]["request_id"], generated_id);
  EXPECT_EQ(access[1]["created"], created_name);
  EXPECT_EQ(access[1]["code"], "OK");
  EXPECT_EQ(access[2]["code"], "Internal");
  EXPECT_EQ(access[2]["level"], "error");
}

// Issue 11 finding 3: an idle service's circuit gauge does not stay "open"
// after the open period ends; finding 8: transitions are logged once.
TEST(OperationsTest, CircuitGaugeRecoversWhileIdleAndTransitionsAreLoggedOnce) {
  std::mutex mu;
  std::vector<std::string> lines;
  Logger::Get().SetSink([&](absl::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  HarnessOptions o;
  o.configure = [](ServerConfig& c) {
    c.backends[0].retry.max_attempts = 1;
    c.backends[0].circuit_breaker.consecutive_failures = 2;
    c.backends[0].circuit_breaker.open_duration = absl::Seconds(1);
  };
  auto h = Harness::Start(o);
  ASSERT_NE(h, nullptr);
  emulator::FaultSpec down;
  down.method = "GET";
  down.status = 503;
  down.times = 2;
  h->emulator().AddFault(down);
  const std::string name =
      std::string(kLeegalityParent) + "/certificates/" + kMissingId;
  v1::Certificate out;
  for (int i = 0; i < 4; ++i) Get(*h, name, &out);  // 2 failures, 2 fast
  constexpr char kOpen[] =
      R"(certbridge_backend_circuit_state{backend="leegality"} 2)";
  constexpr char kHalfOpen[] =
      R"(certbridge_backend_circuit_state{backend="leegality"} 1)";
  EXPECT_THAT(h->server().metrics().Serialize(), HasSubstr(kOpen));
  // No call comes; the open period (1 s) ends and the gauge follows.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (!absl::StrContains(h->server().metrics().Serialize(), kHalfOpen) &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));  // polling, bounded by give_up
  }
  EXPECT_THAT(h->server().metrics().Serialize(), HasSubstr(kHalfOpen));
  h.reset();
  Logger::Get().SetSink(nullptr);
  int opened = 0;
  for (const auto& line : lines) {
    if (absl::StrContains(line, "circuit breaker opened")) ++opened;
  }
  EXPECT_EQ(opened, 1) << "two calls failed fast while open: one line";
}

TEST(OperationsTest, DebugLevelLogsEachExchangeAndRetry) {
  std::mutex mu;
  std::vector<std::string> lines;
  Logger::Get().SetSink([&](absl::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  Logger::Get().SetLevel(LogLevel::kDebug);
  {
    HarnessOptions o;
    o.configure = [](ServerConfig& c) {
      c.backends[0].retry.initial_backoff = absl::Milliseconds(1);
    };
    auto h = Harness::Start(o);
    ASSERT_NE(h, nullptr);
    emulator::FaultSpec once;
    once.method = "GET";
    once.status = 503;
    h->emulator().AddFault(once);
    v1::Certificate out;
    Get(*h, std::string(kLeegalityParent) + "/certificates/" + kMissingId,
        &out);
  }
  Logger::Get().SetSink(nullptr);
  Logger::Get().SetLevel(LogLevel::kInfo);
  int exchanges = 0, retries = 0;
  for (const auto& line : lines) {
    exchanges += absl::StrContains(line, "\"msg\":\"backend exchange\"");
    retries += absl::StrContains(line, "\"msg\":\"retry scheduled\"");
  }
  EXPECT_EQ(exchanges, 2);
  EXPECT_EQ(retries, 1);
}

}  // namespace
}  // namespace certbridge::testing

namespace certbridge::testing {
namespace {

// Issue 11 finding 7: a taken port is reported as such, not as library
// noise.
TEST(OperationsTest, BusyPortsAreNamedInTheStartupError) {
  auto first = Harness::Start();
  ASSERT_NE(first, nullptr);
  ServerConfig config = first->config();
  config.listen_address = "127.0.0.1:" + std::to_string(first->server().port());
  auto second = CertbridgeServer::Start(config);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("listen_address"));
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("Address already in use"));
}

// Issue 11 finding 2: gRPC's own lines come out as JSON like the rest.
TEST(OperationsTest, GrpcLogLinesAreJson) {
  std::vector<std::string> lines;
  Logger::Get().SetSink(
      [&](absl::string_view line) { lines.emplace_back(line); });
  RouteGrpcLogsToJson();
  gpr_log(GPR_ERROR, "Handshake failed with fatal error %s", "SSL_ERROR_SSL");
  Logger::Get().SetSink(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["msg"], "grpc");
  EXPECT_EQ(j["level"], "warning");
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("SSL_ERROR_SSL"));
}

}  // namespace
}  // namespace certbridge::testing
