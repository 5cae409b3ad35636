// Scripted faults for the emulator: a FIFO of FaultSpecs matched by method
// and path prefix, each good for `times` requests. The emulator asks for the
// fault of every backend request (never of /__emulator control requests)
// before it touches any state.
#ifndef CERTBRIDGE_TESTS_EMULATOR_FAULT_INJECTOR_H_
#define CERTBRIDGE_TESTS_EMULATOR_FAULT_INJECTOR_H_

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certbridge::emulator {

struct FaultSpec {
  /// "" matches any method.
  std::string method;
  /// Matched against the request target (path and query); "" matches all.
  std::string path_prefix;
  /// How many requests this fault applies to; -1 forever.
  int times = 1;
  /// Reply with this status instead of handling the request (0: handle).
  int status = 0;
  /// The body of the `status` reply.
  std::string body;
  /// Added to the reply (the injected one, or the real one when status 0).
  std::vector<std::pair<std::string, std::string>> headers;
  /// Wait this long first; if the client closes the connection meanwhile the
  /// request is not applied and is recorded with client_closed.
  int delay_ms = 0;
  /// Close the connection (RST) without replying and without applying.
  bool reset = false;
  /// Apply the request normally, then close (RST) without replying.
  bool reset_after_apply = false;
  /// Reply 200 (or `status`) with a truncated, non-JSON body; not applied.
  bool malformed = false;
  /// Hold the request, not yet applied, until Emulator::ReleaseHeld(); if
  /// the client closes meanwhile it is not applied (client_closed). Lets a
  /// test keep a call in flight for exactly as long as it needs.
  bool hold = false;
  /// Apply the request, then hold the reply until Emulator::ReleaseHeld();
  /// if the client closes meanwhile the request stays applied
  /// (client_closed): a caller that died after the backend acted.
  bool hold_after_apply = false;
};

/// Parses one FaultSpec object or an array of them (the snake_case field
/// names above). InvalidArgument on bad JSON, unknown keys or wrong types.
absl::StatusOr<std::vector<FaultSpec>> ParseFaultSpecs(absl::string_view json);

/// Thread-safe FIFO of faults.
class FaultInjector {
 public:
  void Add(FaultSpec fault);
  void Clear();
  /// The first fault matching the request, consuming one of its `times`
  /// (and removing it when none are left); nullopt when none matches.
  std::optional<FaultSpec> Take(absl::string_view method,
                                absl::string_view target);
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::deque<FaultSpec> faults_;
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_FAULT_INJECTOR_H_
