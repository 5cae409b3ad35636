// Where Create outcomes are remembered by request_id (AIP-155), so that a
// repeated Create gets the first outcome instead of creating again. Two
// kinds: per process (MemoryIdempotencyStore, the default) and shared by
// replicas. The interface is asynchronous because a shared store answers
// over the network, and a Create must never block a gRPC thread or the
// transport's thread on it.
//
// Only answers the backend gave are replayed. A call that failed before
// anything reached the backend (an open circuit, overload, a TLS or token
// endpoint failure) leaves the entry as it was -- in particular "outcome
// unknown" from an earlier attempt survives, so the recovery that depends
// on it still runs on the next repeat.
#ifndef CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_
#define CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.pb.h"

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
      kReplayed,  // `result` holds the first call's outcome (also what a
                  // repeat that waited for a running call gets)
      kMismatch,  // the id was used for a different request
    };
    Kind kind = kProceed;
    /// kProceed: an earlier call with this id may have created the
    /// certificate although it failed.
    bool previous_outcome_unknown = false;
    /// kProceed: this call's claim on the id, for Finish. Two calls of one
    /// process can hold claims on the same id one after the other (a
    /// shared store's claim can lapse and be taken over), so the key alone
    /// does not say whose outcome it is.
    std::uint64_t claim = 0;
    Result result = absl::UnknownError("");
  };
  using AdmissionDone = absl::AnyInvocable<void(absl::StatusOr<Admission>)>;

  /// How a kProceed call ended.
  enum class Outcome {
    kAnswered,  // the backend's definitive answer: replayed from now on
    kUnknown,   // failed after the backend may have acted
    kNotSent,   // nothing reached the backend: as if the call never ran
  };

  virtual ~IdempotencyStore() = default;

  /// Decides whether the Create identified by `key` (the id within its
  /// backend and parent) runs. `done` runs exactly once, perhaps inline:
  /// with an Admission, or with an error when the store cannot decide (a
  /// shared store unreachable: UNAVAILABLE; the wait cancelled: CANCELLED;
  /// `deadline` passed while waiting). While a call with the same id runs,
  /// Begin waits for it and then replays its outcome. Returns a handle for
  /// Cancel.
  virtual std::uint64_t Begin(const std::string& key,
                              const Fingerprint& fingerprint,
                              absl::Time deadline, AdmissionDone done) = 0;

  /// The caller of a Begin that is still waiting went away: its `done` gets
  /// CANCELLED now (no-op if it already ran).
  virtual void Cancel(const std::string& key, std::uint64_t handle) = 0;

  /// Ends the kProceed call holding `claim`. `then` runs once the outcome is
  /// recorded or could not be, perhaps inline; waiting repeats get `result`
  /// whatever the outcome.
  virtual void Finish(const std::string& key, std::uint64_t claim,
                      const Result& result, Outcome outcome,
                      absl::AnyInvocable<void()> then) = 0;

  static Fingerprint FingerprintOf(const v1::CreateCertificateRequest& request);
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENCY_STORE_H_
