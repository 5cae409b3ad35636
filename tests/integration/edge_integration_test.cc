// What a caller sees at the edge, whatever it sends (issue 10 findings 5,
// 10 and 15): every error fits well inside gRPC's default metadata limit
// and leaves the connection usable; deadline expiry is DEADLINE_EXCEEDED in
// metrics and logs whichever side saw it first; the default deadline only
// applies to calls without one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <mutex>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/log.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";

// The bytes gRPC puts on the wire for a status: grpc-message is
// percent-encoded (every byte outside printable ASCII, and '%', becomes
// %XX) and grpc-status-details-bin is base64.
size_t TrailerBytes(const grpc::Status& s) {
  size_t message = 0;
  for (unsigned char c : s.error_message()) {
    message += (c < 0x20 || c > 0x7e || c == '%') ? 3 : 1;
  }
  return std::string("grpc-message").size() + message +
         std::string("grpc-status-details-bin").size() +
         absl::Base64Escape(s.error_details()).size();
}

class EdgeTest : public ::testing::Test {
 protected:
  // A server with metrics on, whose backend delays the next `times` GETs.
  static std::unique_ptr<Harness> StartWithSlowGets(int delay_ms, int times) {
    HarnessOptions o;
    o.configure = [](ServerConfig& c) { c.metrics_address = "127.0.0.1:0"; };
    auto h = Harness::Start(o);
    if (h == nullptr) return nullptr;
    emulator::FaultSpec slow;
    slow.method = "GET";
    slow.delay_ms = delay_ms;
    slow.times = times;
    h->emulator().AddFault(slow);
    return h;
  }

  void SetUp() override {
    Logger::Get().SetLevel(LogLevel::kInfo);
    Logger::Get().SetSink([this](absl::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      log_.append(line.data(), line.size()).push_back('\n');
    });
  }
  void TearDown() override { Logger::Get().SetSink(nullptr); }
  std::string Log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  std::mutex mu_;
  std::string log_;
};

TEST_F(EdgeTest, HugeInputsGiveBoundedErrorsAndTheConnectionSurvives) {
  auto h = Harness::Start();
  ASSERT_NE(h, nullptr);
  // A slow call in flight on the same connection the whole time: a client
  // that receives trailers over its limit drops the connection, and this
  // call with it.
  emulator::FaultSpec slow;
  slow.method = "GET";
  slow.delay_ms = 1500;
  h->emulator().AddFault(slow);
  v1::CreateCertificateRequest seed = LeegalityCreateRequest("seed.p12");
  v1::Certificate seeded;
  {
    auto ctx = Harness::Context();
    ASSERT_TRUE(h->stub().CreateCertificate(ctx.get(), seed, &seeded).ok());
  }
  auto in_flight = std::async(std::launch::async, [&] {
    v1::GetCertificateRequest r;
    r.set_name(seeded.name());
    v1::Certificate out;
    auto ctx = Harness::Context(absl::Seconds(30));
    return h->stub().GetCertificate(ctx.get(), r, &out);
  });
  // The slow call is in flight once the backend has it (and it, not a
  // later GET below, took the slow fault).
  EXPECT_TRUE(h->emulator().WaitForRequest(
      [](const emulator::RecordedRequest& q) { return q.method == "GET"; },
      absl::Seconds(30)));

  const std::string big(10 * 1024, 'Z');
  const std::string big_utf8 = [] {
    std::string s;
    while (s.size() < 10 * 1024) s += "\xC3\xA7\x01";  // percent-encodes x3
    return s;
  }();
  std::vector<grpc::Status> errors;
  auto get = [&](const std::string& name) {
    v1::GetCertificateRequest r;
    r.set_name(name);
    v1::Certificate out;
    auto ctx = Harness::Context();
    errors.push_back(h->stub().GetCertificate(ctx.get(), r, &out));
  };
  get(big);
  get("backends/apinizer/projects/" + big_utf8 + "/certificates/x");
  get("backends/apinizer/projects/p/certificates/" + big.substr(0, 1500));
  get("backends/" + big.substr(0, 1900) + "/certificates/x");
  get(std::string(kLeegalityParent) + "/certificates/" + big.substr(0, 1900));
  {
    v1::UpdateCertificateRequest r;
    r.mutable_certificate()->set_name(seeded.name());
    r.mutable_certificate()->mutable_leegality()->set_file_name(big_utf8);
    for (int i = 0; i < 50; ++i) r.mutable_update_mask()->add_paths(big);
    v1::Certificate out;
    auto ctx = Harness::Context();
    errors.push_back(h->stub().UpdateCertificate(ctx.get(), r, &out));
  }
  {
    auto r = LeegalityCreateRequest("x.p12");
    r.mutable_certificate()->mutable_leegality()->set_file_name(big + ".p12");
    r.mutable_certificate()->mutable_leegality()->set_department_id(big);
    r.set_request_id(big);
    v1::Certificate out;
    auto ctx = Harness::Context();
    errors.push_back(h->stub().CreateCertificate(ctx.get(), r, &out));
  }
  {
    v1::CreateCertificateRequest r;
    r.set_parent("backends/apinizer/projects/Payments");
    r.set_certificate_id("edge");
    auto* a = r.mutable_certificate()->mutable_apinizer();
    a->set_alias(big);
    for (int i = 0; i < 3; ++i) a->add_environments(big_utf8);
    a->set_pem_certificate(MakePemCertificate());
    v1::Certificate out;
    auto ctx = Harness::Context();
    errors.push_back(h->stub().CreateCertificate(ctx.get(), r, &out));
    a->set_alias("edge");
    a->clear_environments();
    a->add_environments(big_utf8);
    a->add_environments(big_utf8);
    auto ctx2 = Harness::Context();
    errors.push_back(h->stub().CreateCertificate(ctx2.get(), r, &out));
  }
  {
    // A vendor message of 10 KB (the emulator echoes what it is told to).
    emulator::FaultSpec f;
    f.method = "GET";
    f.status = 400;
    f.body =
        absl::StrCat(R"({"status":"FAILURE","resultMessage":")", big, R"("})");
    h->emulator().AddFault(f);
    get("backends/apinizer/projects/Payments/certificates/echo");
  }
  ASSERT_EQ(errors.size(), 10u);
  for (const grpc::Status& s : errors) {
    SCOPED_TRACE(s.error_message().substr(0, 120));
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << "the client dropped the trailers";
    EXPECT_EQ(DecodeRpcError(s).error_info_count, 1);
    // Well inside the 8 KiB default, with room for other trailers.
    EXPECT_LT(TrailerBytes(s), 4096u);
  }
  const grpc::Status slow_result = in_flight.get();
  EXPECT_TRUE(slow_result.ok()) << slow_result.error_message();
  // Log lines are bounded too.
  for (absl::string_view line : absl::StrSplit(Log(), '\n')) {
    EXPECT_LT(line.size(), 4096u);
  }
}

TEST_F(EdgeTest, DeadlineExpiryIsDeadlineExceededInMetricsAndLogs) {
  auto h = StartWithSlowGets(/*delay_ms=*/3000, /*times=*/5);
  ASSERT_NE(h, nullptr);
  for (int i = 0; i < 5; ++i) {
    v1::GetCertificateRequest r;
    r.set_name(std::string(kLeegalityParent) + "/certificates/" + kMissingId);
    v1::Certificate out;
    auto ctx = Harness::Context(absl::Milliseconds(200 + 50 * i));
    EXPECT_EQ(h->stub().GetCertificate(ctx.get(), r, &out).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  // The server may finish a moment after the client gave up.
  constexpr char kDeadline[] =
      R"(grpc_server_handled_total{grpc_code="DeadlineExceeded",grpc_method="GetCertificate",grpc_service="certbridge.v1.CertificateService",grpc_type="unary"} )";
  constexpr char kCancelled[] =
      R"(grpc_server_handled_total{grpc_code="Canceled",grpc_method="GetCertificate",grpc_service="certbridge.v1.CertificateService",grpc_type="unary"} )";
  auto value = [](const std::string& text, const std::string& series) {
    const size_t at = text.find(series);
    if (at == std::string::npos) return -1;
    return std::atoi(text.c_str() + at + series.size());
  };
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  std::string metrics = h->server().metrics().Serialize();
  while (value(metrics, kDeadline) + value(metrics, kCancelled) < 5 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));  // polling, bounded by give_up
    metrics = h->server().metrics().Serialize();
  }
  EXPECT_EQ(value(metrics, kDeadline), 5);
  EXPECT_EQ(value(metrics, kCancelled), 0);
  EXPECT_THAT(Log(), Not(HasSubstr("\"code\":\"Canceled\"")));
  EXPECT_THAT(Log(), HasSubstr("\"code\":\"DeadlineExceeded\""));
}

// The other side of the rule above: a caller that cancels early in its
// budget cancelled, and is counted so.
TEST_F(EdgeTest, EarlyExplicitCancelStaysCancelled) {
  auto h = StartWithSlowGets(/*delay_ms=*/5000, /*times=*/1);
  ASSERT_NE(h, nullptr);
  v1::GetCertificateRequest r;
  r.set_name(std::string(kLeegalityParent) + "/certificates/" + kMissingId);
  v1::Certificate out;
  auto ctx = Harness::Context(absl::Seconds(30));
  std::promise<grpc::Status> done;
  h->stub().async()->GetCertificate(
      ctx.get(), &r, &out, [&](grpc::Status st) { done.set_value(st); });
  // Cancel once the backend has the request: the call is under way.
  ASSERT_TRUE(h->emulator().WaitForRequest(
      [](const emulator::RecordedRequest& q) { return q.method == "GET"; },
      absl::Seconds(30)));
  ctx->TryCancel();
  EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::CANCELLED);
  constexpr char kCancelled[] =
      R"(grpc_server_handled_total{grpc_code="Canceled",grpc_method="GetCertificate",grpc_service="certbridge.v1.CertificateService",grpc_type="unary"} 1)";
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  std::string metrics = h->server().metrics().Serialize();
  while (!absl::StrContains(metrics, kCancelled) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));  // polling, bounded by give_up
    metrics = h->server().metrics().Serialize();
  }
  EXPECT_TRUE(absl::StrContains(metrics, kCancelled));
  EXPECT_TRUE(absl::StrContains(
      metrics,
      R"(grpc_server_handled_total{grpc_code="DeadlineExceeded",grpc_method="GetCertificate",grpc_service="certbridge.v1.CertificateService",grpc_type="unary"} 0)"));
}

TEST_F(EdgeTest, DefaultDeadlineAppliesOnlyToCallsWithoutOne) {
  HarnessOptions o;
  o.configure = [](ServerConfig& c) {
    c.default_deadline = absl::Milliseconds(400);
  };
  auto h = Harness::Start(o);
  ASSERT_NE(h, nullptr);
  v1::Certificate created;
  {
    auto ctx = Harness::Context();
    ASSERT_TRUE(h->stub()
                    .CreateCertificate(
                        ctx.get(), LeegalityCreateRequest("d.p12"), &created)
                    .ok());
  }
  emulator::FaultSpec slow;
  slow.method = "GET";
  slow.delay_ms = 1000;
  slow.times = 2;
  h->emulator().AddFault(slow);
  v1::GetCertificateRequest r;
  r.set_name(created.name());
  v1::Certificate out;
  // The caller's own, longer deadline is honoured.
  auto with_deadline = Harness::Context(absl::Seconds(30));
  const grpc::Status honoured =
      h->stub().GetCertificate(with_deadline.get(), r, &out);
  EXPECT_TRUE(honoured.ok()) << honoured.error_message();
  // Without one, the default bounds it.
  grpc::ClientContext no_deadline;
  EXPECT_EQ(h->stub().GetCertificate(&no_deadline, r, &out).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

}  // namespace
}  // namespace certbridge::testing
