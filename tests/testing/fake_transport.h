// A scripted HttpTransport for tests without sockets: it records every
// request and completes transfers only when the test says so, on the test's
// thread, so stubs can be driven step by step.
#ifndef CERTBRIDGE_TESTS_TESTING_FAKE_TRANSPORT_H_
#define CERTBRIDGE_TESTS_TESTING_FAKE_TRANSPORT_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "server/http/http_transport.h"

namespace certbridge::testing {

class FakeTransport final : public HttpTransport {
 public:
  Id Send(HttpRequest request, ResponseCallback done) override;
  Id Schedule(absl::Duration delay, TimerCallback done) override;
  void Cancel(Id id) override;

  /// Every request sent so far, in order.
  const std::vector<HttpRequest>& requests() const { return requests_; }
  std::size_t pending_transfers() const { return transfers_.size(); }
  std::size_t pending_timers() const { return timers_.size(); }
  /// Delays of every timer scheduled so far, in order.
  const std::vector<absl::Duration>& scheduled_delays() const {
    return delays_;
  }

  /// Completes the oldest pending transfer. False if there is none.
  bool Complete(HttpResult result);
  /// Shorthand for a response with a JSON body.
  bool Respond(int status, std::string body, HttpHeaders headers = {});
  /// Fires the oldest pending timer as elapsed. False if there is none.
  bool FireTimer();

 private:
  struct Transfer {
    Id id;
    ResponseCallback done;
  };
  struct Timer {
    Id id;
    TimerCallback done;
  };
  Id next_id_ = 1;
  std::vector<HttpRequest> requests_;
  std::vector<absl::Duration> delays_;
  std::deque<Transfer> transfers_;
  std::deque<Timer> timers_;
};

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_TESTING_FAKE_TRANSPORT_H_
