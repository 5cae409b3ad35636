// CurlTransport's own behaviour that needs no peer: lifetimes and shutdown.
// (Exchanges with a real peer are tested against the emulator.)
#include "server/http/curl_transport.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>

namespace certbridge {
namespace {

class CurlTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_ALL); }
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

}  // namespace
}  // namespace certbridge
