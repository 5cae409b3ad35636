// Issue 10 finding 18: what a burst of large uploads against a stalled
// backend makes certbridge-server hold -- measured on the real binary, as
// the pod's memory limit sees it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/integration/server_process.h"

namespace certbridge::testing {
namespace {

constexpr std::size_t kFiveMebibytes = std::size_t{5} * 1024 * 1024;

TEST(MemoryTest, FiftyConcurrentFiveMebibyteCreatesStayUnderTheBound) {
  char dir[] = "/tmp/certbridge-mem.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto emulator = emulator::Emulator::Start({});
  ASSERT_TRUE(emulator.ok());
  // The backend stalls every upload for longer than the callers wait.
  emulator::FaultSpec stall;
  stall.method = "POST";
  stall.delay_ms = 30000;
  stall.times = -1;
  (*emulator)->AddFault(stall);
  const std::string token = std::string(dir) + "/token";
  std::ofstream(token) << emulator::EmulatorOptions().leegality_token;
  auto server = ServerProcess::Start(
      CERTBRIDGE_SERVER_BINARY, dir,
      absl::StrCat(R"({"listen_address":"127.0.0.1:0","metrics_address":"",
        "log_level":"error","backends":[{"name":"leegality","kind":"leegality",
        "base_url":")",
                   (*emulator)->base_url(), R"(","auth":{"token_file":")",
                   token, R"("}}]})"));
  ASSERT_NE(server, nullptr);
  const ProcessSample idle = SampleProcess(server->pid());

  const v1::CreateCertificateRequest request =
      LeegalityCreateRequest("big.p12", "test-passkey", kFiveMebibytes);
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(16 * 1024 * 1024);
  auto channel =
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server->port()),
                                grpc::InsecureChannelCredentials(), args);
  auto stub = v1::CertificateService::NewStub(channel);
  std::vector<grpc::StatusCode> codes(50);
  std::vector<std::thread> callers;
  for (int i = 0; i < 50; ++i) {
    callers.emplace_back([&, i] {
      v1::Certificate out;
      auto ctx = Harness::Context(absl::Seconds(4));
      codes[i] = stub->CreateCertificate(ctx.get(), request, &out).error_code();
    });
  }
  for (auto& t : callers) t.join();
  const ProcessSample burst = SampleProcess(server->pid());
  int overloaded = 0, timed_out = 0;
  for (grpc::StatusCode c : codes) {
    overloaded += c == grpc::StatusCode::RESOURCE_EXHAUSTED;
    timed_out += c == grpc::StatusCode::DEADLINE_EXCEEDED;
  }
  // The budget admitted some (they waited on the stalled backend until
  // their deadline) and refused the rest at once.
  EXPECT_GT(timed_out, 0);
  EXPECT_GT(overloaded, 0);
  EXPECT_EQ(timed_out + overloaded, 50);
  // Memory is returned once the calls are over (polled: the server frees
  // it as the cancelled calls unwind).
  ProcessSample after = SampleProcess(server->pid());
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (after.rss_kib > idle.rss_kib + 64 * 1024 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));  // polling, bounded by give_up
    after = SampleProcess(server->pid());
  }
  std::cout << "server RSS idle " << idle.rss_kib / 1024 << " MiB, peak "
            << burst.peak_kib / 1024 << " MiB, after " << after.rss_kib / 1024
            << " MiB; admitted " << timed_out << ", refused " << overloaded
            << "\n";
  // The documented bound (README "Sizing"): the pod limit is 512 MiB, less
  // 64 MiB for the rest of a busy server. The peak varies from run to run
  // (250-390 MiB measured): gRPC holds each refused call's whole message
  // until the handler refuses it, so it grows with how many arrive at once.
  EXPECT_LT(burst.peak_kib, 448 * 1024);
  EXPECT_LT(after.rss_kib, idle.rss_kib + 64 * 1024);
  server.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace certbridge::testing
