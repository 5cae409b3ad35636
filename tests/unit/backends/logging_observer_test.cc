// LoggingObserver: every event reaches the next observer (the metrics) as
// is; the log gets one line per breaker transition and per token endpoint
// failing/recovering, never one per call, and retries only at debug level.
#include "server/backends/logging_observer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "server/common/log.h"

namespace certbridge {
namespace {

using ::testing::_;
using ::testing::InSequence;
using ::testing::StrictMock;

class MockObserver : public BackendObserver {
 public:
  MOCK_METHOD(void, OnHttpExchange,
              (Operation, int, absl::string_view, absl::Duration), (override));
  MOCK_METHOD(void, OnRetry, (const RetryEvent&), (override));
  MOCK_METHOD(void, OnRetryThrottled, (), (override));
  MOCK_METHOD(void, OnRejected, (absl::string_view), (override));
  MOCK_METHOD(void, OnCircuitState, (int), (override));
  MOCK_METHOD(void, OnInflight, (int), (override));
  MOCK_METHOD(void, OnDeploymentFailed, (Operation), (override));
  MOCK_METHOD(void, OnTokenRefresh, (const absl::Status&), (override));
};

class LoggingObserverTest : public ::testing::Test {
 protected:
  LoggingObserverTest() {
    Logger::Get().SetLevel(LogLevel::kInfo);
    Logger::Get().SetSink([this](absl::string_view line) {
      lines_.push_back(nlohmann::json::parse(line));
    });
  }
  ~LoggingObserverTest() override {
    Logger::Get().SetSink(nullptr);
    Logger::Get().SetLevel(LogLevel::kInfo);
  }

  /// The messages logged so far, and forgets them.
  std::vector<std::string> TakeMessages() {
    std::vector<std::string> out;
    for (const auto& l : lines_) out.push_back(l.value("msg", ""));
    lines_.clear();
    return out;
  }

  static BackendObserver::RetryEvent Retry() {
    BackendObserver::RetryEvent e;
    e.operation = Operation::kUpdate;
    e.reason = "BACKEND_UNAVAILABLE";
    e.delay = absl::Milliseconds(73);
    e.attempts = 2;
    e.request_id = "req-9";
    return e;
  }

  std::vector<nlohmann::json> lines_;
};

TEST_F(LoggingObserverTest, ForwardsEveryEventToTheNextObserver) {
  auto next = std::make_shared<StrictMock<MockObserver>>();
  LoggingObserver observer("lee", next);
  const absl::Status token_error = absl::UnavailableError("token 503");
  {
    InSequence in_order;
    EXPECT_CALL(*next, OnHttpExchange(Operation::kDelete, 503,
                                      absl::string_view("timeout"),
                                      absl::Milliseconds(12)));
    EXPECT_CALL(*next, OnRetry(_)).WillOnce([](const auto& e) {
      EXPECT_EQ(e.operation, Operation::kUpdate);
      EXPECT_EQ(e.reason, "BACKEND_UNAVAILABLE");
      EXPECT_EQ(e.delay, absl::Milliseconds(73));
      EXPECT_EQ(e.attempts, 2);
      EXPECT_EQ(e.request_id, "req-9");
    });
    EXPECT_CALL(*next, OnRetryThrottled());
    EXPECT_CALL(*next, OnRejected(absl::string_view("overloaded")));
    // Repeats are forwarded even though they are not logged.
    EXPECT_CALL(*next, OnCircuitState(2)).Times(2);
    EXPECT_CALL(*next, OnInflight(-1));
    EXPECT_CALL(*next, OnDeploymentFailed(Operation::kCreate));
    EXPECT_CALL(*next, OnTokenRefresh(token_error)).Times(2);
    EXPECT_CALL(*next, OnTokenRefresh(absl::OkStatus()));
  }
  observer.OnHttpExchange(Operation::kDelete, 503, "timeout",
                          absl::Milliseconds(12));
  observer.OnRetry(Retry());
  observer.OnRetryThrottled();
  observer.OnRejected("overloaded");
  observer.OnCircuitState(2);
  observer.OnCircuitState(2);
  observer.OnInflight(-1);
  observer.OnDeploymentFailed(Operation::kCreate);
  observer.OnTokenRefresh(token_error);
  observer.OnTokenRefresh(token_error);
  observer.OnTokenRefresh(absl::OkStatus());
}

TEST_F(LoggingObserverTest, NullNextObserverOnlyLogs) {
  LoggingObserver observer("lee", nullptr);
  observer.OnHttpExchange(Operation::kGet, 200, "none", absl::Milliseconds(1));
  observer.OnCircuitState(0);
  observer.OnCircuitState(2);
  EXPECT_EQ(
      TakeMessages(),
      std::vector<std::string>({"circuit breaker opened: failing calls fast"}));
}

TEST_F(LoggingObserverTest, LogsEachBreakerTransitionOnce) {
  LoggingObserver observer("lee", nullptr);
  // The first report is the state at start, not a transition.
  observer.OnCircuitState(0);
  observer.OnCircuitState(0);
  EXPECT_TRUE(TakeMessages().empty());
  observer.OnCircuitState(2);
  observer.OnCircuitState(2);
  observer.OnCircuitState(2);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0]["msg"], "circuit breaker opened: failing calls fast");
  EXPECT_EQ(lines_[0]["level"], "warning");
  EXPECT_EQ(lines_[0]["backend"], "lee");
  EXPECT_EQ(lines_[0]["state"], "open");
  lines_.clear();
  observer.OnCircuitState(1);
  observer.OnCircuitState(1);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0]["msg"],
            "circuit breaker half-open: letting a probe through");
  EXPECT_EQ(lines_[0]["level"], "info");
  EXPECT_EQ(lines_[0]["state"], "half_open");
  lines_.clear();
  observer.OnCircuitState(0);
  observer.OnCircuitState(0);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0]["msg"], "circuit breaker closed");
  EXPECT_EQ(lines_[0]["state"], "closed");
}

TEST_F(LoggingObserverTest, AnOpenBreakerAtStartIsNotATransition) {
  LoggingObserver observer("lee", nullptr);
  observer.OnCircuitState(2);
  EXPECT_TRUE(TakeMessages().empty());
  observer.OnCircuitState(1);
  EXPECT_EQ(TakeMessages(),
            std::vector<std::string>(
                {"circuit breaker half-open: letting a probe through"}));
}

TEST_F(LoggingObserverTest, LogsTheTokenEndpointFailingAndRecoveringOnce) {
  LoggingObserver observer("lee", nullptr);
  observer.OnTokenRefresh(absl::OkStatus());
  EXPECT_TRUE(TakeMessages().empty()) << "a first success is not news";
  observer.OnTokenRefresh(absl::UnavailableError("token endpoint: HTTP 503"));
  observer.OnTokenRefresh(absl::UnavailableError("token endpoint: HTTP 502"));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0]["msg"], "token endpoint failing");
  EXPECT_EQ(lines_[0]["level"], "warning");
  EXPECT_EQ(lines_[0]["backend"], "lee");
  EXPECT_EQ(lines_[0]["error"], "token endpoint: HTTP 503");
  lines_.clear();
  observer.OnTokenRefresh(absl::OkStatus());
  observer.OnTokenRefresh(absl::OkStatus());
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0]["msg"], "token endpoint recovered");
  EXPECT_EQ(lines_[0]["level"], "info");
  lines_.clear();
  // And again the next time.
  observer.OnTokenRefresh(absl::UnavailableError("again"));
  EXPECT_EQ(TakeMessages(),
            std::vector<std::string>({"token endpoint failing"}));
}

TEST_F(LoggingObserverTest, LogsRetriesOnlyAtDebugLevel) {
  LoggingObserver observer("lee", nullptr);
  observer.OnRetry(Retry());
  EXPECT_TRUE(TakeMessages().empty());
  Logger::Get().SetLevel(LogLevel::kDebug);
  observer.OnRetry(Retry());
  ASSERT_EQ(lines_.size(), 1u);
  const nlohmann::json& line = lines_[0];
  EXPECT_EQ(line["msg"], "retry scheduled");
  EXPECT_EQ(line["level"], "debug");
  EXPECT_EQ(line["backend"], "lee");
  EXPECT_EQ(line["operation"], "update");
  EXPECT_EQ(line["reason"], "BACKEND_UNAVAILABLE");
  EXPECT_EQ(line["delay_us"], 73000);
  EXPECT_EQ(line["attempts"], 2);
  EXPECT_EQ(line["request_id"], "req-9");
}

}  // namespace
}  // namespace certbridge
