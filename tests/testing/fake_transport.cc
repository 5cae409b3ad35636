#include "tests/testing/fake_transport.h"

#include <utility>

namespace certbridge::testing {

HttpTransport::Id FakeTransport::Send(HttpRequest request,
                                      ResponseCallback done) {
  requests_.push_back(std::move(request));
  const Id id = next_id_++;
  transfers_.push_back({id, std::move(done)});
  return id;
}

HttpTransport::Id FakeTransport::Schedule(absl::Duration delay,
                                          TimerCallback done) {
  delays_.push_back(delay);
  const Id id = next_id_++;
  timers_.push_back({id, std::move(done)});
  return id;
}

void FakeTransport::Cancel(Id id) {
  for (auto it = transfers_.begin(); it != transfers_.end(); ++it) {
    if (it->id != id) continue;
    ResponseCallback done = std::move(it->done);
    transfers_.erase(it);
    done(TransportError{TransportErrorKind::kCancelled, true, "cancelled"});
    return;
  }
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->id != id) continue;
    TimerCallback done = std::move(it->done);
    timers_.erase(it);
    done(absl::CancelledError("timer cancelled"));
    return;
  }
}

bool FakeTransport::Complete(HttpResult result) {
  if (transfers_.empty()) return false;
  ResponseCallback done = std::move(transfers_.front().done);
  transfers_.pop_front();
  done(std::move(result));
  return true;
}

bool FakeTransport::Respond(int status, std::string body, HttpHeaders headers) {
  HttpResponse response;
  response.status_code = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  response.headers.emplace_back("content-type", "application/json");
  return Complete(std::move(response));
}

bool FakeTransport::FireTimer() {
  if (timers_.empty()) return false;
  TimerCallback done = std::move(timers_.front().done);
  timers_.pop_front();
  done(absl::OkStatus());
  return true;
}

}  // namespace certbridge::testing
