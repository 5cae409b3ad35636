// What the emulator received: one RecordedRequest per backend request, in
// arrival order, updated as the request completes (status, client_closed,
// reset). Tests read it or block until a request satisfies a predicate.
#ifndef CERTBRIDGE_TESTS_EMULATOR_REQUEST_LOG_H_
#define CERTBRIDGE_TESTS_EMULATOR_REQUEST_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace certbridge::emulator {

struct RecordedRequest {
  std::string method;
  /// Path and query as received.
  std::string path;
  /// Names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  /// The status replied; 0 while in progress or when no reply was sent.
  int status = 0;
  /// The client closed the connection while the emulator was delaying.
  bool client_closed = false;
  /// The emulator dropped the connection (fault reset / reset_after_apply).
  bool reset = false;
  /// "leegality", "apinizer", or "" when no API serves the path.
  std::string api;
  absl::Time arrival;
};

class RequestLog {
 public:
  /// Appends and returns an id for Update().
  std::uint64_t Add(RecordedRequest request);
  /// Edits a request still in the log (no-op after Clear()).
  void Update(std::uint64_t id,
              const std::function<void(RecordedRequest&)>& edit);
  std::vector<RecordedRequest> Snapshot() const;
  void Clear();
  /// Blocks until some request (already logged or later) satisfies `pred`.
  bool WaitFor(const std::function<bool(const RecordedRequest&)>& pred,
               absl::Duration timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::uint64_t first_id_ = 0;  // id of entries_.front()
  std::deque<RecordedRequest> entries_;
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_REQUEST_LOG_H_
