// Uploaded files are opened on a bounded pool, off the gRPC threads (issue
// 10 finding 6): a Get is not queued behind expensive uploads, and a full
// pool refuses uploads at once with SERVER_OVERLOADED.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

// A PKCS#12 whose MAC takes a million PBKDF iterations: valid, slow to open.
v1::CreateCertificateRequest SlowUpload() {
  static const std::string* der = [] {
    Pkcs12Options o;
    o.mac_iterations = 1000000;
    return new std::string(MakePkcs12(o));
  }();
  v1::CreateCertificateRequest r = LeegalityCreateRequest("slow.p12");
  r.mutable_certificate()->mutable_leegality()->set_pkcs12_file(*der);
  return r;
}

HarnessOptions OnePoolThread(int queue) {
  HarnessOptions o;
  o.configure = [queue](ServerConfig& c) {
    c.limits.pkcs12_max_iterations = 2000000;
    c.limits.certificate_check_threads = 1;
    c.limits.certificate_check_queue = queue;
  };
  return o;
}

TEST(ChecksTest, GetIsNotQueuedBehindExpensiveUploads) {
  auto h = Harness::Start(OnePoolThread(16));
  ASSERT_NE(h, nullptr);
  v1::Certificate seeded;
  {
    auto ctx = Harness::Context();
    ASSERT_TRUE(h->stub()
                    .CreateCertificate(
                        ctx.get(), LeegalityCreateRequest("fast.p12"), &seeded)
                    .ok());
  }
  const v1::CreateCertificateRequest slow = SlowUpload();
  constexpr int kUploads = 6;
  std::atomic<int> uploads_done{0};
  std::vector<std::thread> uploads;
  for (int i = 0; i < kUploads; ++i) {
    uploads.emplace_back([&, i] {
      auto r = slow;  // SignStation refuses two uploads of one file name
      r.mutable_certificate()->mutable_leegality()->set_file_name(
          "slow-" + std::to_string(i) + ".p12");
      v1::Certificate out;
      auto ctx = Harness::Context(absl::Seconds(60));
      const grpc::Status s = h->stub().CreateCertificate(ctx.get(), r, &out);
      EXPECT_TRUE(s.ok()) << s.error_message();
      ++uploads_done;
    });
  }
  v1::GetCertificateRequest get;
  get.set_name(seeded.name());
  v1::Certificate out;
  auto ctx = Harness::Context();
  ASSERT_TRUE(h->stub().GetCertificate(ctx.get(), get, &out).ok());
  // The Get finished while the uploads were still being opened one at a
  // time: it did not wait for a thread they held. (With the checks on
  // gRPC's two callback threads, it waited for two of them.)
  const int done_when_get_finished = uploads_done.load();
  for (auto& t : uploads) t.join();
  EXPECT_LE(done_when_get_finished, 1);
  EXPECT_EQ(uploads_done.load(), kUploads);
}

TEST(ChecksTest, AFullCheckQueueRefusesUploadsAtOnce) {
  auto h = Harness::Start(OnePoolThread(1));
  ASSERT_NE(h, nullptr);
  const v1::CreateCertificateRequest slow = SlowUpload();
  std::vector<RpcError> results(5);
  std::vector<std::thread> uploads;
  for (int i = 0; i < 5; ++i) {
    uploads.emplace_back([&, i] {
      auto r = slow;
      r.mutable_certificate()->mutable_leegality()->set_file_name(
          "slow-" + std::to_string(i) + ".p12");
      v1::Certificate out;
      auto ctx = Harness::Context(absl::Seconds(60));
      results[i] =
          DecodeRpcError(h->stub().CreateCertificate(ctx.get(), r, &out));
    });
  }
  for (auto& t : uploads) t.join();
  int refused = 0;
  for (const RpcError& e : results) {
    if (e.code == grpc::StatusCode::OK) continue;
    EXPECT_EQ(e.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(e.reason, "SERVER_OVERLOADED");
    EXPECT_TRUE(e.has_retry_info);
    ++refused;
  }
  // One runs and one may wait (how many arrive before the worker takes the
  // first depends on scheduling); the others are turned away.
  EXPECT_GE(refused, 1);
  EXPECT_LE(refused, 4);
}

}  // namespace
}  // namespace certbridge::testing
