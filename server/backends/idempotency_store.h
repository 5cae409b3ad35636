// Remembers Create outcomes by request_id (AIP-155) so a repeated Create
// returns the first outcome instead of creating again. Bounded (entries and
// age) and per process: replicas do not share it (README "Failure
// handling"). A Create still running is joined, not repeated.
#ifndef CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_
#define CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_

#include <cstddef>
#include <list>
#include <map>
#include <string>
#include <vector>

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

  struct Admission {
    enum Kind {
      kProceed,   // first call with this id (or the last one's outcome is
                  // unknown): run it and call Finish
      kReplayed,  // `result` holds the first call's outcome
      kJoined,    // the same call is running; `waiter` gets its outcome
      kMismatch,  // the id was used for a different request
    };
    Kind kind = kProceed;
    /// kProceed: an earlier call with this id may have created the
    /// certificate although it failed.
    bool previous_outcome_unknown = false;
    Result result = absl::UnknownError("");
  };

  /// `clock` must outlive the store.
  IdempotencyStore(IdempotencyConfig config, const Clock& clock);

  /// `key` identifies the id within its backend and parent; `fingerprint`
  /// the request's content. `waiter` is kept only for kJoined.
  Admission Begin(const std::string& key, std::size_t fingerprint,
                  Done<v1::Certificate>& waiter);

  /// Ends a kProceed call. `definitive`: the outcome is final (success or a
  /// failure that repeating cannot change) and is replayed from now on.
  /// `outcome_unknown`: the call failed after the backend may have acted.
  /// Joined waiters get `result` either way.
  void Finish(const std::string& key, const Result& result, bool definitive,
              bool outcome_unknown);

  std::size_t size() const;

  /// The fingerprint of a request (its serialized bytes, hashed).
  static std::size_t Fingerprint(const v1::CreateCertificateRequest& request);

 private:
  struct Entry {
    enum State { kRunning, kDone, kUnknown } state = kRunning;
    std::size_t fingerprint = 0;
    Result result = absl::UnknownError("");
    absl::Time expires;
    std::vector<Done<v1::Certificate>> waiters;
    std::list<std::string>::iterator order;
  };
  void EvictLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const IdempotencyConfig config_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> order_ ABSL_GUARDED_BY(mu_);  // oldest first
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_
