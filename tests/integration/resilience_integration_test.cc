// errors.md retry rules end to end: gRPC -> CertbridgeServer -> libcurl ->
// emulator with injected faults. Counts are what the emulator received.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"
#include "tests/testing/reserved_port.h"

namespace certbridge::testing {
namespace {

constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";

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

class ResilienceTest : public ::testing::Test {
 protected:
  void Start(std::function<void(BackendConfig&)> edit = nullptr) {
    HarnessOptions options;
    options.configure = [edit](ServerConfig& c) {
      BackendConfig& b = c.backends[0];
      b.retry.max_attempts = 3;
      b.retry.initial_backoff = absl::Milliseconds(20);
      b.retry.max_backoff = absl::Milliseconds(200);
      if (edit) edit(b);
    };
    h_ = Harness::Start(options);
    ASSERT_NE(h_, nullptr);
  }

  grpc::Status Get(const std::string& name, v1::Certificate* out,
                   absl::Duration timeout = absl::Seconds(10)) {
    v1::GetCertificateRequest r;
    r.set_name(name);
    auto ctx = Harness::Context(timeout);
    return h_->stub().GetCertificate(ctx.get(), r, out);
  }

  v1::Certificate CreateOne(const std::string& file = "r.p12") {
    v1::Certificate out;
    auto ctx = Harness::Context();
    const grpc::Status s = h_->stub().CreateCertificate(
        ctx.get(), LeegalityCreateRequest(file), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  int Count(const std::string& method) {
    int n = 0;
    for (const auto& r : h_->emulator().Requests()) {
      if (r.api == "leegality" && r.method == method) ++n;
    }
    return n;
  }

  static int Attempts(const grpc::Status& s) {
    int n = 0;
    (void)absl::SimpleAtoi(DecodeRpcError(s).metadata["attempts"], &n);
    return n;
  }

  std::unique_ptr<Harness> h_;
};

TEST_F(ResilienceTest, GetSucceedsAfterTwo503s) {
  Start();
  v1::Certificate created = CreateOne();
  h_->emulator().ClearRequests();
  h_->emulator().AddFault(Fault("GET", 503));
  h_->emulator().AddFault(Fault("GET", 503));
  v1::Certificate out;
  const grpc::Status s = Get(created.name(), &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Count("GET"), 3);
}

TEST_F(ResilienceTest, CreateOn503IsAttemptedExactlyOnce) {
  Start();
  h_->emulator().AddFault(Fault("POST", 503, -1));
  v1::Certificate out;
  auto ctx = Harness::Context();
  const grpc::Status s = h_->stub().CreateCertificate(
      ctx.get(), LeegalityCreateRequest("once.p12"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Count("POST"), 1);
  EXPECT_EQ(Attempts(s), 1);
}

TEST_F(ResilienceTest, CreateAfterConnectionRefusedIsRetried) {
  // The backend is down for the first attempt(s) and comes up while
  // certbridge backs off: connection refused means the request never left,
  // so even Create retries, and exactly one certificate results.
  ReservedPort dead;  // refuses connects, and no one else can take it
  Start([&](BackendConfig& b) {
    b.base_url = dead.url();
    b.retry.max_attempts = 10;
    b.retry.initial_backoff = absl::Milliseconds(300);
    b.retry.max_backoff = absl::Seconds(2);
    b.retry.multiplier = 1.5;
    b.retry_budget.max_tokens = 100;
    // However many attempts a loaded machine needs, the breaker stays out.
    b.circuit_breaker.enabled = false;
  });
  std::atomic<bool> refused_once{false};
  std::unique_ptr<emulator::Emulator> late;
  std::thread starter([&] {
    // Bring the backend up once a refused attempt has been retried (an
    // event, read off the retry counter), not after a guessed delay.
    constexpr char kRetried[] =
        R"(certbridge_backend_retries_total{backend="leegality",operation="create",reason="BACKEND_UNREACHABLE"} )";
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (absl::Now() < give_up) {
      const std::string text = h_->server().metrics().Serialize();
      const size_t at = text.find(kRetried);
      if (at != std::string::npos &&
          std::atoi(text.c_str() + at + sizeof(kRetried) - 1) >= 1) {
        refused_once = true;
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));  // polling, bounded by give_up
    }
    // Hand the port from the reservation to the emulator, bound at once.
    emulator::EmulatorOptions options;
    options.port = dead.Release();
    auto e = emulator::Emulator::Start(options);
    if (e.ok()) late = *std::move(e);
  });
  v1::Certificate out;
  auto ctx = Harness::Context(absl::Seconds(60));
  const grpc::Status s = h_->stub().CreateCertificate(
      ctx.get(), LeegalityCreateRequest("late.p12"), &out);
  starter.join();
  EXPECT_TRUE(refused_once) << "no refused attempt was retried";
  ASSERT_NE(late, nullptr) << "could not start the emulator on the dead port";
  ASSERT_TRUE(s.ok()) << s.error_message();
  int posts = 0;
  for (const auto& r : late->Requests()) posts += r.method == "POST";
  EXPECT_EQ(posts, 1);
  EXPECT_EQ(late->leegality().size(), 1u);
}

TEST_F(ResilienceTest, RateLimitWithRetryAfterWaitsAtLeastThatLong) {
  Start();
  v1::Certificate created = CreateOne();
  emulator::FaultSpec limited = Fault("GET", 429);
  limited.headers = {{"Retry-After", "1"}};
  h_->emulator().AddFault(limited);
  v1::Certificate out;
  const absl::Time start = absl::Now();
  const grpc::Status s = Get(created.name(), &out, absl::Seconds(30));
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GE(took, absl::Seconds(1));
  // Not the 30 s Retry-After cap, nor anything near it: 10x the 1 s asked.
  EXPECT_LT(took, absl::Seconds(10));
}

TEST_F(ResilienceTest, DeadlineShorterThanRetryAfterReturnsPromptly) {
  Start();
  emulator::FaultSpec limited = Fault("GET", 429, -1);
  limited.headers = {{"Retry-After", "10"}};
  h_->emulator().AddFault(limited);
  v1::Certificate out;
  const absl::Time start = absl::Now();
  // A deadline (9 s) shorter than the Retry-After (10 s): certbridge gives
  // up at once with the backend's answer instead of sleeping into the
  // deadline -- RESOURCE_EXHAUSTED below, not DEADLINE_EXCEEDED, says so.
  const grpc::Status s = Get(NameOf(kMissingId), &out, absl::Seconds(9));
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Seconds(5)) << "waited towards the deadline";
  RpcError e = DecodeRpcError(s);
  EXPECT_EQ(e.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(e.reason, "BACKEND_RATE_LIMITED");
  EXPECT_EQ(e.retry_delay, absl::Seconds(10));
  EXPECT_EQ(Count("GET"), 1);
}

TEST_F(ResilienceTest, ResetAfterADeleteWasAppliedStillEndsOk) {
  Start();
  v1::Certificate created = CreateOne();
  emulator::FaultSpec reset;
  reset.method = "DELETE";
  reset.reset_after_apply = true;
  h_->emulator().AddFault(reset);
  v1::DeleteCertificateRequest r;
  r.set_name(created.name());
  v1::DeleteCertificateResponse out;
  auto ctx = Harness::Context();
  const grpc::Status s = h_->stub().DeleteCertificate(ctx.get(), r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.name(), created.name());
  EXPECT_EQ(Count("DELETE"), 2) << "the retry met 404 and knew why";
  EXPECT_EQ(h_->emulator().leegality().size(), 0u);
}

TEST_F(ResilienceTest, BreakerOpensFailsFastAndClosesAfterProbes) {
  Start([](BackendConfig& b) {
    b.retry.max_attempts = 1;
    b.circuit_breaker.consecutive_failures = 3;
    // Long enough that the four calls below (a few ms each) all fall
    // inside it even on a loaded machine.
    b.circuit_breaker.open_duration = absl::Seconds(2);
    b.circuit_breaker.half_open_probes = 1;
  });
  v1::Certificate created = CreateOne();
  h_->emulator().ClearRequests();
  h_->emulator().AddFault(Fault("GET", 500, 3));
  v1::Certificate out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(DecodeRpcError(Get(created.name(), &out)).reason,
              "BACKEND_INTERNAL_ERROR");
  }
  // Open: no request reaches the backend, RetryInfo says when to return.
  const absl::Time start = absl::Now();
  RpcError open = DecodeRpcError(Get(created.name(), &out));
  // Fails fast (a few ms; the bound is 10x generous): Count("GET") below
  // shows it never reached the backend.
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(open.code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(open.reason, "BACKEND_CIRCUIT_OPEN");
  EXPECT_TRUE(open.has_retry_info);
  EXPECT_LE(open.retry_delay, absl::Seconds(2));
  EXPECT_EQ(Count("GET"), 3);
  // After the open period one probe goes through, succeeds, and closes it.
  // Time, not synchronisation: the breaker's 2 s open period must pass.
  absl::SleepFor(absl::Seconds(2) + absl::Milliseconds(50));
  ASSERT_TRUE(Get(created.name(), &out).ok());
  ASSERT_TRUE(Get(created.name(), &out).ok());
  EXPECT_EQ(Count("GET"), 5);
}

TEST_F(ResilienceTest, BreakerIgnoresClientErrors) {
  Start([](BackendConfig& b) { b.circuit_breaker.consecutive_failures = 2; });
  v1::Certificate out;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Get(NameOf(kMissingId), &out).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(Count("GET"), 5);
}

TEST_F(ResilienceTest, BudgetStopsRetriesUnderSustainedFailure) {
  Start([](BackendConfig& b) {
    b.retry.max_attempts = 3;
    b.retry_budget = {10, 0.1};
    b.circuit_breaker.enabled = false;
  });
  h_->emulator().AddFault(Fault("GET", 503, -1));
  v1::Certificate out;
  int last_attempts = 0;
  for (int i = 0; i < 20; ++i) {
    last_attempts = Attempts(Get(NameOf(kMissingId), &out));
  }
  // Without a budget: 60 requests. With it, retries stop once half the
  // tokens are gone and the original error returns after one attempt.
  EXPECT_EQ(last_attempts, 1);
  EXPECT_LE(Count("GET"), 26);
}

TEST_F(ResilienceTest, ConcurrencyLimitRejectsTheExcess) {
  Start([](BackendConfig& b) { b.max_concurrent_calls = 4; });
  v1::Certificate created = CreateOne();
  h_->emulator().ClearRequests();
  // The admitted calls are held by the backend for far longer than the
  // rejections below take (a few ms), however loaded the machine.
  h_->emulator().AddFault([] {
    emulator::FaultSpec f;
    f.method = "GET";
    f.delay_ms = 3000;
    f.times = -1;
    return f;
  }());
  constexpr int kLimit = 4;
  constexpr int kCalls = 10;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, overloaded{0};
  auto call = [&] {
    v1::Certificate out;
    const grpc::Status s = Get(created.name(), &out, absl::Seconds(30));
    if (s.ok()) ok++;
    if (DecodeRpcError(s).reason == "BACKEND_OVERLOADED") overloaded++;
  };
  for (int i = 0; i < kLimit; ++i) threads.emplace_back(call);
  // Every slot is taken once the backend holds kLimit requests.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (Count("GET") < kLimit && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));  // polling, bounded by give_up
  }
  EXPECT_EQ(Count("GET"), kLimit);
  std::vector<std::thread> excess;
  for (int i = kLimit; i < kCalls; ++i) excess.emplace_back(call);
  for (auto& t : excess) t.join();
  EXPECT_EQ(overloaded.load(), kCalls - kLimit) << "while all slots were held";
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kLimit);
  EXPECT_EQ(overloaded.load(), kCalls - kLimit);
  EXPECT_EQ(Count("GET"), kLimit) << "the excess never reached the backend";
}

TEST_F(ResilienceTest, HalfFailingBackendGetsNoMoreThanTheBudgetAllows) {
  Start([](BackendConfig& b) {
    b.retry.max_attempts = 3;
    b.retry.initial_backoff = absl::Milliseconds(1);
    b.retry.max_backoff = absl::Milliseconds(2);
    b.retry_budget = {10, 0.1};
    b.circuit_breaker.enabled = false;
  });
  v1::Certificate created = CreateOne();
  h_->emulator().ClearRequests();
  // Every other request fails: 503, ok, 503, ok, ...
  for (int i = 0; i < 1200; ++i) {
    emulator::FaultSpec f;
    f.method = "GET";
    if (i % 2 == 0) {
      f.status = 503;
      f.body = "{}";
    }
    h_->emulator().AddFault(f);
  }
  constexpr int kCalls = 1000;
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (next.fetch_add(1) < kCalls) {
        v1::Certificate out;
        (void)Get(created.name(), &out);
      }
    });
  }
  for (auto& t : threads) t.join();
  const int received = Count("GET");
  // Each retry needs tokens above half: over the run, retries are bounded
  // by the initial slack (5) plus token_ratio per success (~0.1 * 1000).
  // Unthrottled, ~1500 requests would arrive.
  std::cout << "1000 calls at 50% failure: backend received " << received
            << " requests\n";
  EXPECT_GE(received, kCalls);
  EXPECT_LE(received, kCalls + 5 + kCalls / 10 + 10);
}

// --- ReservedPort, behind Harness::DeadUrl() ------------------------------

// errno of a connect to 127.0.0.1:port (0 if it connected).
int ConnectErrno(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const int rc =
      connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = rc == 0 ? 0 : errno;
  close(fd);
  return err;
}

// errno of a bind to `host`:port (0 if it bound), with SO_REUSEADDR as
// asked -- the HTTP emulator and most servers set it.
int BindErrno(uint32_t host, int port, bool reuse_address) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (reuse_address) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(host);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const int rc =
      bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = rc == 0 ? 0 : errno;
  close(fd);
  return err;
}

TEST(ReservedPortTest, ConnectsAreRefusedAndNoOneElseCanBindThePort) {
  ReservedPort reserved;
  const int port = reserved.port();
  ASSERT_GT(port, 0);
  EXPECT_EQ(reserved.url(), absl::StrCat("http://127.0.0.1:", port));
  EXPECT_EQ(ConnectErrno(port), ECONNREFUSED);
  EXPECT_EQ(BindErrno(INADDR_LOOPBACK, port, false), EADDRINUSE);
  EXPECT_EQ(BindErrno(INADDR_LOOPBACK, port, true), EADDRINUSE);
  EXPECT_EQ(BindErrno(INADDR_ANY, port, true), EADDRINUSE);
  emulator::EmulatorOptions options;
  options.port = port;
  EXPECT_FALSE(emulator::Emulator::Start(options).ok())
      << "the emulator could listen on a reserved port";
  // Moving hands the reservation over; it is never dropped on the way.
  ReservedPort moved = std::move(reserved);
  EXPECT_EQ(moved.port(), port);
  EXPECT_EQ(reserved.port(), 0);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(BindErrno(INADDR_LOOPBACK, port, true), EADDRINUSE);
  EXPECT_EQ(ConnectErrno(port), ECONNREFUSED);
}

TEST(ReservedPortTest, DeadUrlStaysReservedWhileItsHarnessRuns) {
  std::string dead;
  HarnessOptions options;
  options.configure = [&](ServerConfig& c) {
    dead = Harness::DeadUrl();
    c.backends[0].base_url = dead;
  };
  auto h = Harness::Start(options);
  ASSERT_NE(h, nullptr);
  std::vector<std::string> parts = absl::StrSplit(dead, ':');
  ASSERT_EQ(parts.size(), 3u) << dead;
  const int port = std::stoi(parts[2]);
  EXPECT_EQ(ConnectErrno(port), ECONNREFUSED);
  EXPECT_EQ(BindErrno(INADDR_LOOPBACK, port, true), EADDRINUSE);
  v1::GetCertificateRequest get;
  get.set_name(NameOf(kMissingId));
  v1::Certificate out;
  auto ctx = Harness::Context();
  EXPECT_EQ(
      DecodeRpcError(h->stub().GetCertificate(ctx.get(), get, &out)).reason,
      "BACKEND_UNREACHABLE");
  // Still reserved after the harness used it.
  EXPECT_EQ(BindErrno(INADDR_LOOPBACK, port, true), EADDRINUSE);
}

}  // namespace
}  // namespace certbridge::testing
