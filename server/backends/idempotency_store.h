// Remembers Create outcomes by request_id (AIP-155) so a repeated Create
// returns the first outcome instead of creating again. Bounded (entries and
// age) and per process: replicas do not share it (README "Failure
// handling"). A Create still running is joined, not repeated.
//
// Only answers the backend gave are replayed. A call that failed before
// anything reached the backend (an open circuit, overload, a TLS or token
// endpoint failure) leaves the entry as it was -- in particular "outcome
// unknown" from an earlier attempt survives, so the recovery that depends
// on it still runs on the next repeat.
#ifndef CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_
#define CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "server/backends/backend_stub.h"
#include "server/config/server_config.h"
#include "server/resilience/clock.h"

namespace certbridge {

class IdempotencyStore {
 public:
  using Result = absl::StatusOr<v1::Certificate>;
  /// SHA-256 of the request without its request_id and parent (the key
  /// holds the parsed parent).
  using Fingerprint = std::array<unsigned char, 32>;

  struct Admission {
    enum Kind {
      kProceed,   // first call with this id (or the last one's outcome is
                  // unknown): run it and call Finish
      kReplayed,  // `result` holds the first call's outcome
      kJoined,    // the same call is running; the waiter gets its outcome
      kMismatch,  // the id was used for a different request
    };
    Kind kind = kProceed;
    /// kProceed: an earlier call with this id may have created the
    /// certificate although it failed.
    bool previous_outcome_unknown = false;
    Result result = absl::UnknownError("");
    /// kJoined: pass to Abandon() when the joined call is cancelled.
    std::uint64_t waiter = 0;
  };

  /// How a kProceed call ended.
  enum class Outcome {
    kAnswered,  // the backend's definitive answer: replayed from now on
    kUnknown,   // failed after the backend may have acted
    kNotSent,   // nothing reached the backend: as if the call never ran
  };

  /// `clock` must outlive the store.
  IdempotencyStore(IdempotencyConfig config, const Clock& clock);

  /// `key` identifies the id within its backend and parent; `fingerprint`
  /// the request's content. `waiter` is kept only for kJoined.
  Admission Begin(const std::string& key, const Fingerprint& fingerprint,
                  Done<v1::Certificate>& waiter);

  /// Ends a kProceed call. Joined waiters get `result` whatever the outcome.
  void Finish(const std::string& key, const Result& result, Outcome outcome);

  /// A joined waiter's call was cancelled: it gets CANCELLED now (no-op if
  /// it already got its result).
  void Abandon(const std::string& key, std::uint64_t waiter);

  std::size_t size() const;

  static Fingerprint FingerprintOf(const v1::CreateCertificateRequest& request);

 private:
  struct Entry {
    enum State { kRunning, kDone, kUnknown } state = kRunning;
    /// The state before the running call began (kUnknown or none), restored
    /// when that call ends with nothing sent.
    bool was_unknown = false;
    Fingerprint fingerprint{};
    Result result = absl::UnknownError("");
    absl::Time expires;
    std::map<std::uint64_t, Done<v1::Certificate>> waiters;
    std::list<std::string>::iterator order;
  };
  void EvictLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const IdempotencyConfig config_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> order_ ABSL_GUARDED_BY(mu_);  // oldest first
  std::uint64_t next_waiter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_
