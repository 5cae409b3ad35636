// CurlTransport's own behaviour: lifetimes and shutdown, timers, and the
// exchange rules it owns (timeouts, cancellation, the response cap,
// redirects, connection reuse, resets), against a scripted loopback peer.
// Backend protocols are tested against the emulator instead.
//
// Synchronisation is by callbacks and condition variables with generous
// timeouts (kWait); elapsed times are checked only from below.
#include "server/http/curl_transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/testing/reserved_port.h"
#include "tests/unit/http/loopback_peer.h"

namespace certbridge {
namespace {

using ::certbridge::testing::LoopbackPeer;
using ::certbridge::testing::RecordedRequest;
using ::certbridge::testing::ReservedPort;
using ::certbridge::testing::UnacceptingListener;
using Clock = std::chrono::steady_clock;

// How long a test waits for something that should take milliseconds.
constexpr absl::Duration kWait = absl::Seconds(30);

// Collects the calls of one callback; the state is shared with the callback,
// so a call that comes late (after a failed wait) touches no dead frame.
template <typename T>
class Completion {
 public:
  absl::AnyInvocable<void(T)> Callback() {
    return [state = state_](T value) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (++state->calls == 1) {
        state->value = std::move(value);
        state->when = Clock::now();
        state->thread = std::this_thread::get_id();
      }
      state->cv.notify_all();
    };
  }

  /// The first value, or nullopt if none came within `timeout`.
  std::optional<T> Wait(absl::Duration timeout = kWait) {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                        [&] { return state_->calls > 0; });
    return state_->value;
  }

  int calls() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->calls;
  }
  Clock::time_point when() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->when;
  }
  std::thread::id thread() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->thread;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    std::optional<T> value;
    Clock::time_point when;
    std::thread::id thread;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

using ResultCompletion = Completion<HttpResult>;
using TimerCompletion = Completion<absl::Status>;

absl::Duration Since(Clock::time_point start, Clock::time_point end) {
  return absl::FromChrono(end - start);
}

HttpRequest Request(std::string method, std::string url) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  return r;
}

std::string Response(int status, absl::string_view body,
                     absl::string_view extra_headers = "") {
  return absl::StrCat("HTTP/1.1 ", status,
                      " X\r\nContent-Length: ", body.size(), "\r\n",
                      extra_headers, "\r\n", body);
}

// Answers every request on the connection with 200 "ok", keeping it open.
void ServeOk(LoopbackPeer::Connection& c) {
  while (c.ReadRequest()) {
    if (!c.Write(Response(200, "ok"))) return;
  }
}

const TransportError* ErrorOf(const std::optional<HttpResult>& result) {
  return result ? std::get_if<TransportError>(&*result) : nullptr;
}
const HttpResponse* ResponseOf(const std::optional<HttpResult>& result) {
  return result ? std::get_if<HttpResponse>(&*result) : nullptr;
}

// Describes a result for failure messages.
std::string Describe(const std::optional<HttpResult>& result) {
  if (!result) return "no completion within the wait";
  if (const auto* r = ResponseOf(result)) {
    return absl::StrCat("HTTP ", r->status_code);
  }
  const TransportError* e = ErrorOf(result);
  return absl::StrCat("TransportError ", TransportErrorKindName(e->kind), ": ",
                      e->message);
}

// Sends and waits for the completion.
std::optional<HttpResult> Exchange(HttpTransport& t, HttpRequest request) {
  ResultCompletion done;
  t.Send(std::move(request), done.Callback());
  return done.Wait();
}

// Returns once the loop has processed every command enqueued before it
// (commands run in order, and a zero-delay timer fires after they ran).
bool Barrier(HttpTransport& t) {
  TimerCompletion done;
  t.Schedule(absl::ZeroDuration(), done.Callback());
  return done.Wait().has_value();
}

class CurlTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_ALL); }

  static std::unique_ptr<CurlTransport> MakeTransport(
      CurlTransportOptions options = {}) {
    auto t = CurlTransport::Create(std::move(options));
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *std::move(t) : nullptr;
  }
};

// Issue 10 finding 13: completions that run during shutdown start new work
// (a retry timer, a read-back); it must be completed too, or whoever waits
// on it waits forever.
TEST_F(CurlTransportTest, ShutdownCompletesWorkStartedByCompletions) {
  std::atomic<int> timers{0};
  std::atomic<int> sends{0};
  std::atomic<int> cancelled{0};
  {
    auto transport = CurlTransport::Create();
    ASSERT_TRUE(transport.ok());
    CurlTransport* t = transport->get();
    t->Schedule(absl::Hours(1), [&, t](absl::Status first) {
      ++timers;
      if (!first.ok()) ++cancelled;
      t->Schedule(absl::Hours(1), [&](absl::Status s) {
        ++timers;
        if (!s.ok()) ++cancelled;
      });
      HttpRequest r;
      r.method = "GET";
      r.url = "http://127.0.0.1:9/";
      t->Send(std::move(r), [&](HttpResult result) {
        ++sends;
        const auto* e = std::get_if<TransportError>(&result);
        if (e != nullptr && e->kind == TransportErrorKind::kCancelled) {
          ++cancelled;
        }
      });
    });
  }
  EXPECT_EQ(timers.load(), 2);
  EXPECT_EQ(sends.load(), 1);
  EXPECT_EQ(cancelled.load(), 3);
}

TEST_F(CurlTransportTest, CancelOfAFinishedIdIsHarmless) {
  auto transport = CurlTransport::Create();
  ASSERT_TRUE(transport.ok());
  (*transport)->Cancel(12345);
  std::atomic<bool> fired{false};
  const auto id =
      (*transport)->Schedule(absl::ZeroDuration(), [&](absl::Status) {
        fired = true;
      });
  (*transport)->Cancel(id);  // racing the firing: either way, once
  transport->reset();
  EXPECT_TRUE(fired.load());
}

// ---------------------------------------------------------------------------
// Timers

// Why: retry back-off and deadlines sleep through Schedule; firing early
// would shorten back-off, and the callback must run on the loop thread
// (never inside Schedule) with OK. Timers 10 ms apart keep waking the loop
// shortly before each other's deadline, where an early firing would show.
TEST_F(CurlTransportTest, TimersFireWithOkNoEarlierThanTheirDelay) {
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  constexpr int kTimers = 30;
  std::vector<TimerCompletion> done(kTimers);
  std::vector<Clock::time_point> scheduled(kTimers);
  for (int i = 0; i < kTimers; ++i) {
    scheduled[i] = Clock::now();
    t->Schedule(absl::Milliseconds(10) * (i + 1), done[i].Callback());
  }
  EXPECT_EQ(done.back().calls(), 0);  // hardly 300 ms later: not inside
  for (int i = 0; i < kTimers; ++i) {
    const std::optional<absl::Status> status = done[i].Wait();
    ASSERT_TRUE(status.has_value()) << "timer " << i << " never fired";
    EXPECT_TRUE(status->ok()) << *status;
    EXPECT_GE(Since(scheduled[i], done[i].when()),
              absl::Milliseconds(10) * (i + 1))
        << "timer " << i;
    EXPECT_NE(done[i].thread(), std::this_thread::get_id());
  }
}

// Why: timers are ordered by deadline, ties by scheduling order; two
// back-offs of equal length must not overtake each other.
TEST_F(CurlTransportTest, TimersWithEqualDelaysFireInScheduleOrder) {
  // Declared before the transport: its destructor may still run callbacks.
  std::mutex mu;
  std::vector<int> order;  // written on the loop thread
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  TimerCompletion last;
  constexpr int kTimers = 8;
  for (int i = 0; i < kTimers; ++i) {
    t->Schedule(absl::Milliseconds(20), [&, i](absl::Status) {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
  }
  t->Schedule(absl::Milliseconds(20), last.Callback());
  ASSERT_TRUE(last.Wait().has_value());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, std::vector<int>({0, 1, 2, 3, 4, 5, 6, 7}));
}

// Why: a short timer scheduled after a long one must not wait behind it.
TEST_F(CurlTransportTest, TimersFireInDeadlineOrderNotScheduleOrder) {
  constexpr absl::Duration kStep = absl::Milliseconds(250);
  std::mutex mu;
  std::vector<int> order;  // outlives the transport, whose callbacks write it
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  TimerCompletion last;
  const Clock::time_point start = Clock::now();
  for (int i = 3; i >= 0; --i) {  // delays 3, 2, 1, 0 steps
    t->Schedule(i * kStep, [&, i](absl::Status) {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
  }
  const absl::Duration scheduling = Since(start, Clock::now());
  t->Schedule(4 * kStep, last.Callback());
  ASSERT_TRUE(last.Wait().has_value());
  if (scheduling >= kStep) {
    // The deadlines themselves are no longer in reverse order.
    GTEST_SKIP() << "scheduling took " << scheduling;
  }
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, std::vector<int>({0, 1, 2, 3}));
}

// Why: Cancel ends a pending back-off at once with CANCELLED (not OK, which
// would mean "go ahead"), exactly once however often it is cancelled, and
// only the timer named.
TEST_F(CurlTransportTest, CancelCompletesAPendingTimerOnceWithCancelled) {
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  TimerCompletion cancelled;
  TimerCompletion other;
  const HttpTransport::Id id =
      t->Schedule(absl::Hours(1), cancelled.Callback());
  t->Schedule(absl::Hours(1), other.Callback());
  t->Cancel(id);
  const std::optional<absl::Status> status = cancelled.Wait();
  ASSERT_TRUE(status.has_value()) << "Cancel did not complete the timer";
  EXPECT_EQ(status->code(), absl::StatusCode::kCancelled) << *status;
  t->Cancel(id);
  t->Cancel(id);
  ASSERT_TRUE(Barrier(*t));
  EXPECT_EQ(cancelled.calls(), 1);
  EXPECT_EQ(other.calls(), 0);
  t.reset();  // completes `other` as cancelled; `cancelled` stays at one
  EXPECT_EQ(cancelled.calls(), 1);
  EXPECT_EQ(other.calls(), 1);
}

// BUG (not fixed here: server/ is out of this change's scope). Schedule
// computes `Clock::now() + nanoseconds(ToInt64Nanoseconds(delay))`; for
// absl::InfiniteDuration() (or any delay beyond ~292 years minus uptime)
// that overflows int64 (undefined behaviour: the ASan/UBSan build aborts
// with "signed integer overflow" in chrono.h; otherwise it wraps to a
// deadline in the past), so an "infinite" timer fires at once with OK
// instead of never. Enable once Schedule saturates the deadline.
TEST_F(CurlTransportTest, InfiniteDelayTimerNeverFires) {
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  TimerCompletion infinite;
  TimerCompletion soon;
  t->Schedule(absl::InfiniteDuration(), infinite.Callback());
  t->Schedule(absl::Milliseconds(50), soon.Callback());
  // Timers fire in deadline order: had the infinite one wrapped into the
  // past, it would have fired before this one.
  ASSERT_TRUE(soon.Wait().has_value());
  EXPECT_EQ(infinite.calls(), 0) << "fired with " << *infinite.Wait();
  t.reset();
  ASSERT_EQ(infinite.calls(), 1);
  EXPECT_EQ(infinite.Wait()->code(), absl::StatusCode::kCancelled);
}

// ---------------------------------------------------------------------------
// Cancelling a transfer

// Why: a cancelled RPC must get its callback once with kCancelled while the
// backend is still silent, and the half-done connection must be closed (not
// left open, not pooled for the next request).
TEST_F(CurlTransportTest, CancelOfAnInFlightRequestCompletesOnceAndCloses) {
  std::atomic<bool> client_closed{false};
  LoopbackPeer peer([&](LoopbackPeer::Connection& c) {
    if (!c.ReadRequest()) return;
    client_closed = c.WaitForClientClose(kWait);  // never answers
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  ResultCompletion done;
  const HttpTransport::Id id =
      t->Send(Request("GET", peer.Url("/slow")), done.Callback());
  ASSERT_TRUE(peer.WaitForRequests(1, kWait));
  EXPECT_EQ(done.calls(), 0);
  t->Cancel(id);
  const std::optional<HttpResult> result = done.Wait();
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kCancelled) << Describe(result);
  t->Cancel(id);
  ASSERT_TRUE(Barrier(*t));
  ASSERT_TRUE(peer.WaitForFinished(1, kWait));
  EXPECT_TRUE(client_closed.load()) << "the connection was left open";
  t.reset();
  EXPECT_EQ(done.calls(), 1);
}

// ---------------------------------------------------------------------------
// Timeouts (HttpRequest::connect_timeout and HttpRequest::timeout)

// Why: a connect that times out provably never delivered the request, so a
// non-idempotent call may be retried: kConnectTimeout, not sent. The overall
// timeout (60 s) is far beyond the wait, so only connect_timeout can end it.
TEST_F(CurlTransportTest, ConnectTimeoutIsConnectTimeoutAndNotSent) {
  UnacceptingListener listener;
  ASSERT_TRUE(listener.ok()) << listener.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  HttpRequest r = Request("POST", listener.Url("/"));
  r.SetBody("{}");
  r.connect_timeout = absl::Milliseconds(200);
  r.timeout = absl::Seconds(60);
  ResultCompletion done;
  const Clock::time_point start = Clock::now();
  t->Send(std::move(r), done.Callback());
  const std::optional<HttpResult> result = done.Wait();
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kConnectTimeout) << Describe(result);
  EXPECT_FALSE(e->request_may_have_been_sent);
  EXPECT_GE(Since(start, done.when()), absl::Milliseconds(190));
}

// Why: `timeout` bounds the whole exchange including the connect, even when
// connect_timeout is longer; the connect still counts as never sent.
TEST_F(CurlTransportTest, OverallTimeoutAlsoBoundsTheConnect) {
  UnacceptingListener listener;
  ASSERT_TRUE(listener.ok()) << listener.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  HttpRequest r = Request("GET", listener.Url("/"));
  r.connect_timeout = absl::Seconds(60);
  r.timeout = absl::Milliseconds(200);
  const std::optional<HttpResult> result = Exchange(*t, std::move(r));
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kConnectTimeout) << Describe(result);
  EXPECT_FALSE(e->request_may_have_been_sent);
}

// Why: once the request was written, a timeout is ambiguous (the backend
// may have acted): kTimeout with request_may_have_been_sent, and libcurl
// must not have sent the request a second time.
TEST_F(CurlTransportTest, SilentPeerAfterTheRequestIsTimeoutAndMaybeSent) {
  LoopbackPeer peer([](LoopbackPeer::Connection& c) {
    if (c.ReadRequest()) c.WaitForClientClose(kWait);
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  HttpRequest r = Request("POST", peer.Url("/create"));
  r.SetBody("{\"a\":1}");
  r.timeout = absl::Milliseconds(300);
  ResultCompletion done;
  const Clock::time_point start = Clock::now();
  t->Send(std::move(r), done.Callback());
  const std::optional<HttpResult> result = done.Wait();
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kTimeout) << Describe(result);
  EXPECT_TRUE(e->request_may_have_been_sent);
  EXPECT_GE(Since(start, done.when()), absl::Milliseconds(290));
  ASSERT_TRUE(peer.WaitForFinished(1, kWait));
  EXPECT_EQ(peer.requests().size(), 1u);
  EXPECT_EQ(peer.accepted(), 1);
}

// Why: `timeout` bounds the whole exchange, not idle time: a backend that
// trickles a byte every 20 ms must not hold the call for the 20 000 s its
// declared body would take.
TEST_F(CurlTransportTest, TimeoutBoundsTheExchangeWhileBytesKeepArriving) {
  LoopbackPeer peer([](LoopbackPeer::Connection& c) {
    if (!c.ReadRequest()) return;
    if (!c.Write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")) return;
    while (c.Pause(absl::Milliseconds(20)) && c.Write("x")) {
    }
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  HttpRequest r = Request("GET", peer.Url("/trickle"));
  r.timeout = absl::Milliseconds(500);
  const std::optional<HttpResult> result = Exchange(*t, std::move(r));
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kTimeout) << Describe(result);
  EXPECT_TRUE(e->request_may_have_been_sent);
}

// ---------------------------------------------------------------------------
// Response size cap (CurlTransportOptions::max_response_bytes)

// Why: the cap is inclusive: a body of exactly max_response_bytes is
// delivered intact, one byte more fails with kResponseTooLarge.
TEST_F(CurlTransportTest, BodyAtTheCapIsDeliveredOneByteMoreIsTooLarge) {
  constexpr std::size_t kCap = 64 * 1024;
  LoopbackPeer peer([&](LoopbackPeer::Connection& c) {
    while (auto request = c.ReadRequest()) {
      const std::size_t size = request->target == "/over" ? kCap + 1 : kCap;
      if (!c.Write(Response(200, std::string(size, 'b')))) return;
    }
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  CurlTransportOptions options;
  options.max_response_bytes = kCap;
  auto t = MakeTransport(options);
  ASSERT_NE(t, nullptr);

  const std::optional<HttpResult> at =
      Exchange(*t, Request("GET", peer.Url("/at")));
  const HttpResponse* response = ResponseOf(at);
  ASSERT_NE(response, nullptr) << Describe(at);
  EXPECT_EQ(response->status_code, 200);
  EXPECT_EQ(response->body, std::string(kCap, 'b'));

  const std::optional<HttpResult> over =
      Exchange(*t, Request("GET", peer.Url("/over")));
  const TransportError* e = ErrorOf(over);
  ASSERT_NE(e, nullptr) << Describe(over);
  EXPECT_EQ(e->kind, TransportErrorKind::kResponseTooLarge) << Describe(over);
}

// A peer that streams body bytes until the client stops reading; records
// how many it got out.
void StreamEndlessBody(LoopbackPeer::Connection& c, bool chunked,
                       std::atomic<std::size_t>* written) {
  if (!c.ReadRequest()) return;
  const std::string block(64 * 1024, 'z');
  const std::string chunk = absl::StrCat("10000\r\n", block, "\r\n");
  bool ok =
      c.Write(chunked ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      : "HTTP/1.1 200 OK\r\nContent-Length: "
                        "1099511627776\r\n\r\n");  // 1 TiB
  while (ok) ok = c.Write(chunked ? chunk : block);
  *written = c.bytes_written();
}

// Why: max_response_bytes protects memory: an endless body (declared or
// chunked) ends in kResponseTooLarge once the cap is reached, and the
// transport stops reading then, instead of buffering what the peer sends.
// Without that, this peer would write forever and the wait would fail.
void ExpectEndlessBodyIsCutOff(bool chunked) {
  constexpr std::size_t kCap = 1024 * 1024;
  std::atomic<std::size_t> written{0};
  LoopbackPeer peer([&](LoopbackPeer::Connection& c) {
    StreamEndlessBody(c, chunked, &written);
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  CurlTransportOptions options;
  options.max_response_bytes = kCap;
  auto transport = CurlTransport::Create(options);
  ASSERT_TRUE(transport.ok()) << transport.status();
  const std::optional<HttpResult> result =
      Exchange(**transport, Request("GET", peer.Url("/endless")));
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kResponseTooLarge) << Describe(result);
  // The peer's writes fail once the client has closed: it did not keep
  // reading. What got out is the cap plus what the kernel's socket buffers
  // held (at most tens of MiB here), nowhere near unbounded.
  ASSERT_TRUE(peer.WaitForFinished(1, kWait)) << "the client kept reading";
  EXPECT_GT(written.load(), kCap);
  EXPECT_LT(written.load(), kCap + std::size_t{96} * 1024 * 1024);
}

TEST_F(CurlTransportTest, EndlessBodyWithContentLengthIsCutOffAtTheCap) {
  ExpectEndlessBodyIsCutOff(/*chunked=*/false);
}

TEST_F(CurlTransportTest, EndlessChunkedBodyIsCutOffAtTheCap) {
  ExpectEndlessBodyIsCutOff(/*chunked=*/true);
}

// Serves a status line and then header lines without end.
void StreamEndlessHeaders(LoopbackPeer::Connection& c) {
  if (!c.ReadRequest() || !c.Write("HTTP/1.1 200 OK\r\n")) return;
  const std::string line =
      absl::StrCat("X-Pad: ", std::string(1000, 'h'), "\r\n");
  while (c.Write(line)) {
  }
}

// Why: headers are not counted against max_response_bytes, so memory is
// bounded only by libcurl's own limit on response headers (300 KiB in
// 7.88); an endless header block must still end the transfer in an error
// and the transport must stop reading.
TEST_F(CurlTransportTest, EndlessHeadersEndTheTransferInAnError) {
  LoopbackPeer peer(StreamEndlessHeaders);
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  const std::optional<HttpResult> result =
      Exchange(*t, Request("GET", peer.Url("/headers")));
  ASSERT_NE(ErrorOf(result), nullptr) << Describe(result);
  ASSERT_TRUE(peer.WaitForFinished(1, kWait)) << "the client kept reading";
}

// BUG (not fixed here: server/ is out of this change's scope). An
// oversized header block fails inside libcurl with CURLE_RECV_ERROR ("Too
// large response headers: 307762 > 307200"), which Classify() maps to
// kConnectionReset: the call is reported as a network reset
// (UNAVAILABLE, backend_connection_reset) and is retried, although the
// same backend will send the same response again. It is an oversized
// response: kResponseTooLarge (INTERNAL, not retried), like a body over the
// cap. A fix: count header bytes in OnHeader against a cap below libcurl's
// and fail with too_large set (returning a short count gives
// CURLE_WRITE_ERROR, which Classify already maps to kResponseTooLarge).
TEST_F(CurlTransportTest, EndlessHeadersAreResponseTooLarge) {
  LoopbackPeer peer(StreamEndlessHeaders);
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  const std::optional<HttpResult> result =
      Exchange(*t, Request("GET", peer.Url("/headers")));
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kResponseTooLarge) << Describe(result);
}

// ---------------------------------------------------------------------------
// Redirects

// Why: redirects are never followed: a backend (or whoever controls its
// Location header) must not be able to send our request, credentials and
// body to another host. The 3xx itself is the result.
TEST_F(CurlTransportTest, RedirectsAreReturnedNotFollowed) {
  LoopbackPeer elsewhere(ServeOk);
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.error();
  const std::string location = elsewhere.Url("/elsewhere");
  LoopbackPeer peer([&](LoopbackPeer::Connection& c) {
    while (auto request = c.ReadRequest()) {
      const int status = request->method == "GET" ? 302 : 307;
      if (!c.Write(Response(status, "",
                            absl::StrCat("Location: ", location, "\r\n")))) {
        return;
      }
    }
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);

  const std::optional<HttpResult> get =
      Exchange(*t, Request("GET", peer.Url("/a")));
  const HttpResponse* r = ResponseOf(get);
  ASSERT_NE(r, nullptr) << Describe(get);
  EXPECT_EQ(r->status_code, 302);
  EXPECT_EQ(r->Header("location"), location);

  HttpRequest post = Request("POST", peer.Url("/b"));
  post.headers.emplace_back("Authorization", "Bearer secret");
  post.SetBody("{\"x\":1}");
  const std::optional<HttpResult> posted = Exchange(*t, std::move(post));
  r = ResponseOf(posted);
  ASSERT_NE(r, nullptr) << Describe(posted);
  EXPECT_EQ(r->status_code, 307);

  EXPECT_EQ(elsewhere.accepted(), 0);
  EXPECT_EQ(peer.requests().size(), 2u);
}

// ---------------------------------------------------------------------------
// Connection reuse (CURLOPT_FRESH_CONNECT for POST and DELETE)

// Why: idempotent GETs reuse the pooled keep-alive connection (performance):
// three sequential GETs, one TCP connection.
TEST_F(CurlTransportTest, SequentialGetsReuseOneConnection) {
  LoopbackPeer peer(ServeOk);
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  for (int i = 0; i < 3; ++i) {
    const std::optional<HttpResult> result =
        Exchange(*t, Request("GET", peer.Url(absl::StrCat("/get", i))));
    const HttpResponse* r = ResponseOf(result);
    ASSERT_NE(r, nullptr) << Describe(result);
    EXPECT_EQ(r->status_code, 200);
  }
  EXPECT_EQ(peer.accepted(), 1);
  for (const RecordedRequest& r : peer.requests()) {
    EXPECT_EQ(r.connection, 0) << r.target;
  }
}

// Why: a POST or DELETE never goes out on a pooled connection (one that
// might die under it and make libcurl resend it): each opens its own, even
// with an idle keep-alive connection available. A PUT (a full replacement,
// harmless to resend) reuses the pool like a GET.
TEST_F(CurlTransportTest, PostAndDeleteAlwaysUseAFreshConnection) {
  LoopbackPeer peer(ServeOk);
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  const std::vector<std::string> methods = {"GET", "POST",   "PUT",
                                            "PUT", "DELETE", "POST"};
  for (const std::string& method : methods) {
    HttpRequest r = Request(method, peer.Url("/" + method));
    if (method != "DELETE") r.SetBody("{}");
    const std::optional<HttpResult> result = Exchange(*t, std::move(r));
    ASSERT_NE(ResponseOf(result), nullptr)
        << method << ": " << Describe(result);
  }
  // GET on 0; POST on 1; both PUTs reuse an idle one; DELETE on 2; POST 3.
  EXPECT_EQ(peer.accepted(), 4);
  const std::vector<RecordedRequest> seen = peer.requests();
  ASSERT_EQ(seen.size(), methods.size());
  const std::vector<int> fresh = {0, 1, -1, -1, 2, 3};
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].method, methods[i]);
    if (fresh[i] >= 0) {
      EXPECT_EQ(seen[i].connection, fresh[i]) << seen[i].method;
    } else {
      EXPECT_LT(seen[i].connection, 2) << "PUT opened a connection";
    }
  }
}

// Why (the reason for the rule above): when a pooled connection dies before
// answering, libcurl silently resends the request on a new one. That is
// fine for a GET, and this shows the peer script below really triggers it.
TEST_F(CurlTransportTest, GetOnADeadPooledConnectionIsResentTransparently) {
  LoopbackPeer peer([](LoopbackPeer::Connection& c) {
    if (c.index() > 0) return ServeOk(c);
    // The first connection answers once, then dies on the next request.
    if (!c.ReadRequest() || !c.Write(Response(200, "ok"))) return;
    if (c.ReadRequest()) c.Close();
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  ASSERT_NE(ResponseOf(Exchange(*t, Request("GET", peer.Url("/1")))), nullptr);
  const std::optional<HttpResult> second =
      Exchange(*t, Request("GET", peer.Url("/2")));
  ASSERT_NE(ResponseOf(second), nullptr) << Describe(second);
  const std::vector<RecordedRequest> seen = peer.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].target, "/2");
  EXPECT_EQ(seen[1].connection, 0);
  EXPECT_EQ(seen[2].target, "/2");  // resent
  EXPECT_EQ(seen[2].connection, 1);
}

// Why: the same death during a POST must surface (kConnectionReset, maybe
// sent) to the retry policy, which knows whether resending is safe; the
// backend sees the POST exactly once.
TEST_F(CurlTransportTest, PostIsNeverSilentlyResent) {
  LoopbackPeer peer([](LoopbackPeer::Connection& c) {
    // GETs are answered (keep-alive); anything else kills the connection
    // without an answer, as a backend crashing mid-request would.
    while (auto request = c.ReadRequest()) {
      if (request->method != "GET") return c.Close();
      if (!c.Write(Response(200, "ok"))) return;
    }
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  ASSERT_NE(ResponseOf(Exchange(*t, Request("GET", peer.Url("/warm")))),
            nullptr);
  HttpRequest post = Request("POST", peer.Url("/create"));
  post.SetBody("{\"name\":\"once\"}");
  const std::optional<HttpResult> result = Exchange(*t, std::move(post));
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kConnectionReset) << Describe(result);
  EXPECT_TRUE(e->request_may_have_been_sent);
  const std::vector<RecordedRequest> seen = peer.requests();
  const auto posts = std::count_if(seen.begin(), seen.end(), [](const auto& r) {
    return r.method == "POST";
  });
  EXPECT_EQ(posts, 1);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].body, "{\"name\":\"once\"}");
  EXPECT_NE(seen[1].connection, seen[0].connection);
}

// ---------------------------------------------------------------------------
// Connection failures

// Why: a refused connect provably never delivered the request:
// kConnectFailed, not sent, so even a POST may be retried.
TEST_F(CurlTransportTest, RefusedConnectIsConnectFailedAndNotSent) {
  ReservedPort port;  // bound, not listening: connects are refused
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  HttpRequest r = Request("POST", port.url() + "/");
  r.SetBody("{}");
  const std::optional<HttpResult> result = Exchange(*t, std::move(r));
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kConnectFailed) << Describe(result);
  EXPECT_FALSE(e->request_may_have_been_sent);
}

// Why: a connection that ends before the response does is a transport
// failure (kConnectionReset, maybe sent), never a truncated 200 or an
// empty success.
TEST_F(CurlTransportTest, PeerResetMidBodyIsConnectionReset) {
  LoopbackPeer peer([](LoopbackPeer::Connection& c) {
    if (!c.ReadRequest()) return;
    if (!c.Write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")) return;
    if (!c.Write(std::string(1000, 'p'))) return;
    c.Reset();  // RST
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  const std::optional<HttpResult> result =
      Exchange(*t, Request("GET", peer.Url("/reset")));
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kConnectionReset) << Describe(result);
  EXPECT_TRUE(e->request_may_have_been_sent);
}

TEST_F(CurlTransportTest, PeerClosingMidBodyIsConnectionReset) {
  LoopbackPeer peer([](LoopbackPeer::Connection& c) {
    while (auto request = c.ReadRequest()) {
      if (request->target == "/chunked") {
        c.Write(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "10\r\n0123456789abcdef\r\n8\r\n0123");
      } else {
        c.Write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
      }
      return c.Close();  // FIN
    }
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  for (const char* path : {"/length", "/chunked"}) {
    const std::optional<HttpResult> result =
        Exchange(*t, Request("GET", peer.Url(path)));
    const TransportError* e = ErrorOf(result);
    ASSERT_NE(e, nullptr) << path << ": " << Describe(result);
    EXPECT_EQ(e->kind, TransportErrorKind::kConnectionReset)
        << path << ": " << Describe(result);
    EXPECT_TRUE(e->request_may_have_been_sent) << path;
  }
}

TEST_F(CurlTransportTest, PeerClosingWithoutAnyResponseIsConnectionReset) {
  LoopbackPeer peer([](LoopbackPeer::Connection& c) {
    if (c.ReadRequest()) c.Close();
  });
  ASSERT_TRUE(peer.ok()) << peer.error();
  auto t = MakeTransport();
  ASSERT_NE(t, nullptr);
  HttpRequest r = Request("PUT", peer.Url("/x"));
  r.SetBody("{}");
  const std::optional<HttpResult> result = Exchange(*t, std::move(r));
  const TransportError* e = ErrorOf(result);
  ASSERT_NE(e, nullptr) << Describe(result);
  EXPECT_EQ(e->kind, TransportErrorKind::kConnectionReset) << Describe(result);
  EXPECT_TRUE(e->request_may_have_been_sent);
  EXPECT_EQ(peer.requests().size(), 1u);
}

// ---------------------------------------------------------------------------
// The peer itself

int CountEntries(const char* dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

// Why: the peer must not leak into later tests: its destructor wakes a
// handler blocked on a live connection, joins every thread and closes every
// descriptor. (Threads may only go down: nothing here starts one that
// outlives its owner, but an unrelated one may end meanwhile.)
TEST(LoopbackPeerTest, DestructorJoinsThreadsAndClosesDescriptors) {
  const int fds_before = CountEntries("/proc/self/fd");
  const int threads_before = CountEntries("/proc/self/task");
  int client = -1;
  {
    LoopbackPeer peer([](LoopbackPeer::Connection& c) {
      if (c.ReadRequest()) c.WaitForClientClose(kWait);
    });
    ASSERT_TRUE(peer.ok()) << peer.error();
    client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(client, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(peer.port());
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0);
    const std::string request =
        "POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    ASSERT_EQ(send(client, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    ASSERT_TRUE(peer.WaitForRequests(1, kWait));
    EXPECT_EQ(peer.accepted(), 1);
    const std::vector<RecordedRequest> seen = peer.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].target, "/p");
    EXPECT_EQ(seen[0].body, "abc");
    EXPECT_EQ(peer.finished(), 0);  // still blocked on the open connection
  }
  close(client);
  EXPECT_EQ(CountEntries("/proc/self/fd"), fds_before);
  EXPECT_LE(CountEntries("/proc/self/task"), threads_before);
}

}  // namespace
}  // namespace certbridge
