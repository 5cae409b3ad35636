// W3C trace context and grpc-retry-pushback-ms end to end: gRPC ->
// CertbridgeServer -> libcurl -> emulator. What the backend received is
// the emulator's request log; what the caller received is its trailers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "server/common/log.h"
#include "server/common/trace_context.h"
#include "tests/integration/certbridge_harness.h"

namespace certbridge::testing {
namespace {

constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";
constexpr char kCallerTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kCallerSpanId[] = "00f067aa0ba902b7";
constexpr char kCallerTraceparent[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

emulator::FaultSpec Fault(const std::string& method, int status,
                          int times = 1) {
  emulator::FaultSpec f;
  f.method = method;
  f.status = status;
  f.times = times;
  f.body = "{}";
  return f;
}

std::string NameOf(const std::string& id) {
  return std::string(kLeegalityParent) + "/certificates/" + id;
}

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Logger::Get().SetLevel(LogLevel::kDebug);
    Logger::Get().SetSink([this](absl::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    });
  }
  void TearDown() override {
    h_.reset();
    Logger::Get().SetSink(nullptr);
    Logger::Get().SetLevel(LogLevel::kInfo);
  }

  void Start(int max_attempts) {
    HarnessOptions options;
    options.configure = [max_attempts](ServerConfig& c) {
      BackendConfig& b = c.backends[0];
      b.retry.max_attempts = max_attempts;
      b.retry.initial_backoff = absl::Milliseconds(20);
      b.retry.max_backoff = absl::Milliseconds(200);
    };
    h_ = Harness::Start(options);
    ASSERT_NE(h_, nullptr);
  }

  std::string CreateOne() {
    v1::Certificate out;
    auto ctx = Harness::Context();
    const grpc::Status s = h_->stub().CreateCertificate(
        ctx.get(), LeegalityCreateRequest("t.p12"), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.name();
  }

  // The GETs the backend received, in order.
  std::vector<emulator::RecordedRequest> Gets() {
    std::vector<emulator::RecordedRequest> out;
    for (const auto& r : h_->emulator().Requests()) {
      if (r.api == "leegality" && r.method == "GET") out.push_back(r);
    }
    return out;
  }

  // The log lines (parsed) whose request_id is `request_id`.
  std::vector<nlohmann::json> LinesOf(const std::string& request_id) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<nlohmann::json> out;
    for (const std::string& line : lines_) {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.value("request_id", "") == request_id) {
        out.push_back(j);
      }
    }
    return out;
  }

  std::mutex mu_;
  std::vector<std::string> lines_;
  std::unique_ptr<Harness> h_;
};

// "00-<trace>-<span>-<flags>" split into its fields.
std::vector<std::string> Fields(const std::string& traceparent) {
  return absl::StrSplit(traceparent, '-');
}

TEST_F(TraceTest, EveryAttemptCarriesTheCallersTraceWithItsOwnSpan) {
  Start(/*max_attempts=*/3);
  const std::string name = CreateOne();
  h_->emulator().ClearRequests();
  h_->emulator().AddFault(Fault("GET", 503));
  h_->emulator().AddFault(Fault("GET", 503));
  auto ctx = Harness::Context();
  ctx->AddMetadata("traceparent", kCallerTraceparent);
  ctx->AddMetadata("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  ctx->AddMetadata("x-request-id", "trace-retries");
  v1::GetCertificateRequest r;
  r.set_name(name);
  v1::Certificate out;
  const grpc::Status s = h_->stub().GetCertificate(ctx.get(), r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();

  const auto gets = Gets();
  ASSERT_EQ(gets.size(), 3u);
  std::set<std::string> spans;
  for (const auto& g : gets) {
    ASSERT_EQ(g.headers.count("traceparent"), 1u);
    const std::string& tp = g.headers.at("traceparent");
    const auto f = Fields(tp);
    ASSERT_EQ(f.size(), 4u) << tp;
    EXPECT_EQ(f[0], "00");
    EXPECT_EQ(f[1], kCallerTraceId);
    EXPECT_NE(f[2], kCallerSpanId) << "an attempt is a span of its own";
    EXPECT_EQ(f[3], "01") << "the caller's sampling decision stands";
    EXPECT_TRUE(TraceContext::Parse(tp, "").has_value()) << tp;
    spans.insert(f[2]);
    EXPECT_EQ(g.headers.at("tracestate"),
              "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  }
  EXPECT_EQ(spans.size(), 3u) << "a span id reused across attempts";

  const auto lines = LinesOf("trace-retries");
  int access = 0;
  int retries = 0;
  for (const auto& j : lines) {
    EXPECT_EQ(j.value("trace_id", ""), kCallerTraceId) << j.dump();
    // tracestate may carry anything a vendor put there: never logged.
    EXPECT_EQ(j.dump().find("congo"), std::string::npos) << j.dump();
    if (j.value("msg", "") == "rpc") ++access;
    if (j.value("msg", "") == "retry scheduled") ++retries;
  }
  EXPECT_EQ(access, 1);
  EXPECT_EQ(retries, 2);
}

TEST_F(TraceTest, WithoutATraceparentAGeneratedOneIsSentAndLogged) {
  Start(/*max_attempts=*/1);
  auto ctx = Harness::Context();
  ctx->AddMetadata("x-request-id", "trace-none");
  // tracestate alone means nothing: it belongs to a traceparent.
  ctx->AddMetadata("tracestate", "congo=t61rcWkgMzE");
  v1::GetCertificateRequest r;
  r.set_name(NameOf(kMissingId));
  v1::Certificate out;
  EXPECT_EQ(h_->stub().GetCertificate(ctx.get(), r, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  const auto gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  ASSERT_EQ(gets[0].headers.count("traceparent"), 1u);
  const std::string& tp = gets[0].headers.at("traceparent");
  auto parsed = TraceContext::Parse(tp, "");
  ASSERT_TRUE(parsed.has_value()) << tp;
  EXPECT_FALSE(parsed->sampled()) << "certbridge records no spans";
  EXPECT_EQ(gets[0].headers.count("tracestate"), 0u);

  const auto lines = LinesOf("trace-none");
  ASSERT_FALSE(lines.empty());
  for (const auto& j : lines) {
    EXPECT_EQ(j.value("trace_id", ""), parsed->trace_id()) << j.dump();
  }
}

TEST_F(TraceTest, AnInvalidTraceparentIsReplacedNotPassedOn) {
  Start(/*max_attempts=*/1);
  auto ctx = Harness::Context();
  ctx->AddMetadata("x-request-id", "trace-invalid");
  // Uppercase hex is not a traceparent.
  ctx->AddMetadata("traceparent",
                   "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01");
  ctx->AddMetadata("tracestate", "congo=t61rcWkgMzE");
  v1::GetCertificateRequest r;
  r.set_name(NameOf(kMissingId));
  v1::Certificate out;
  EXPECT_EQ(h_->stub().GetCertificate(ctx.get(), r, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  const auto gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  auto parsed = TraceContext::Parse(gets[0].headers.at("traceparent"), "");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_NE(parsed->trace_id(), kCallerTraceId);
  EXPECT_EQ(gets[0].headers.count("tracestate"), 0u);
  const auto lines = LinesOf("trace-invalid");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().value("trace_id", ""), parsed->trace_id());
}

// A6: the pushback is what gRPC's own client retries wait for.
class PushbackTest : public TraceTest {
 protected:
  grpc::Status Get(const std::string& name, grpc::ClientContext* ctx) {
    v1::GetCertificateRequest r;
    r.set_name(name);
    v1::Certificate out;
    return h_->stub().GetCertificate(ctx, r, &out);
  }

  static std::vector<std::string> Pushbacks(const grpc::ClientContext& ctx) {
    std::vector<std::string> out;
    auto [first, last] =
        ctx.GetServerTrailingMetadata().equal_range("grpc-retry-pushback-ms");
    for (auto it = first; it != last; ++it) {
      out.emplace_back(it->second.data(), it->second.size());
    }
    return out;
  }
};

TEST_F(PushbackTest, RateLimitedCallCarriesTheRetryInfoDelay) {
  Start(/*max_attempts=*/1);
  emulator::FaultSpec limited = Fault("GET", 429);
  limited.headers = {{"Retry-After", "7"}};
  h_->emulator().AddFault(limited);
  auto ctx = Harness::Context();
  const grpc::Status s = Get(NameOf(kMissingId), ctx.get());
  const RpcError e = DecodeRpcError(s);
  ASSERT_EQ(e.code, grpc::StatusCode::RESOURCE_EXHAUSTED) << e.message;
  ASSERT_TRUE(e.has_retry_info);
  EXPECT_EQ(e.retry_delay, absl::Seconds(7));
  EXPECT_THAT(Pushbacks(*ctx), ::testing::ElementsAre(absl::StrCat(
                                   absl::ToInt64Milliseconds(e.retry_delay))));
  // Trailers-Only (what A6 retries): the request id is in the trailers.
  EXPECT_TRUE(ctx->GetServerInitialMetadata().empty());
  EXPECT_EQ(ctx->GetServerTrailingMetadata().count("x-request-id"), 1u);
}

TEST_F(PushbackTest, UnavailableCallCarriesTheRetryInfoDelay) {
  Start(/*max_attempts=*/1);
  emulator::FaultSpec down = Fault("GET", 503);
  down.headers = {{"Retry-After", "3"}};
  h_->emulator().AddFault(down);
  auto ctx = Harness::Context();
  const grpc::Status s = Get(NameOf(kMissingId), ctx.get());
  const RpcError e = DecodeRpcError(s);
  ASSERT_EQ(e.code, grpc::StatusCode::UNAVAILABLE) << e.message;
  ASSERT_TRUE(e.has_retry_info);
  EXPECT_THAT(Pushbacks(*ctx), ::testing::ElementsAre(absl::StrCat(
                                   absl::ToInt64Milliseconds(e.retry_delay))));
  EXPECT_EQ(Pushbacks(*ctx), std::vector<std::string>{"3000"});
}

TEST_F(PushbackTest, CallsWithoutRetryInfoCarryNoPushback) {
  Start(/*max_attempts=*/1);
  {
    auto ctx = Harness::Context();
    const grpc::Status s = Get(NameOf(kMissingId), ctx.get());
    const RpcError e = DecodeRpcError(s);
    ASSERT_EQ(e.code, grpc::StatusCode::NOT_FOUND);
    EXPECT_FALSE(e.has_retry_info);
    EXPECT_THAT(Pushbacks(*ctx), ::testing::IsEmpty());
  }
  {
    const std::string name = CreateOne();
    auto ctx = Harness::Context();
    ASSERT_TRUE(Get(name, ctx.get()).ok());
    EXPECT_THAT(Pushbacks(*ctx), ::testing::IsEmpty());
  }
}

TEST_F(PushbackTest, GrpcClientRetriesWaitForThePushback) {
  Start(/*max_attempts=*/1);
  const std::string name = CreateOne();
  h_->emulator().ClearRequests();
  emulator::FaultSpec limited = Fault("GET", 429);
  limited.headers = {{"Retry-After", "1"}};
  h_->emulator().AddFault(limited);
  // A client retry policy whose own backoff (10 ms) is far shorter than
  // the pushback: a retry a second later is the pushback's doing.
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(R"({"methodConfig": [{
      "name": [{"service": "certbridge.v1.CertificateService"}],
      "retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.01s",
                      "maxBackoff": "0.01s", "backoffMultiplier": 1,
                      "retryableStatusCodes": ["RESOURCE_EXHAUSTED"]}}]})");
  auto channel =
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", h_->server().port()),
                                grpc::InsecureChannelCredentials(), args);
  auto stub = v1::CertificateService::NewStub(channel);
  v1::GetCertificateRequest r;
  r.set_name(name);
  v1::Certificate out;
  auto ctx = Harness::Context(absl::Seconds(20));
  const grpc::Status s = stub->GetCertificate(ctx.get(), r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto gets = Gets();
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_GE(gets[1].arrival - gets[0].arrival, absl::Milliseconds(950));
}

}  // namespace
}  // namespace certbridge::testing
