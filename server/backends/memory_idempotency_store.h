// The per-process IdempotencyStore: bounded (entries and age), answers
// inline. Replicas do not share it (README "Failure handling"); a repeat of
// a Create still running in this process waits for it.
#ifndef CERTBRIDGE_SERVER_BACKENDS_MEMORY_IDEMPOTENCY_STORE_H_
#define CERTBRIDGE_SERVER_BACKENDS_MEMORY_IDEMPOTENCY_STORE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/backends/idempotency_store.h"
#include "server/config/server_config.h"
#include "server/resilience/clock.h"

namespace certbridge {

class MemoryIdempotencyStore final : public IdempotencyStore {
 public:
  /// `clock` must outlive the store.
  MemoryIdempotencyStore(IdempotencyConfig config, const Clock& clock);

  /// Answers inline except for a repeat of a running call, which is
  /// answered by that call's Finish. `deadline` is not watched here: the
  /// caller cancels a waiting repeat (Cancel) when its call ends.
  std::uint64_t Begin(const std::string& key, const Fingerprint& fingerprint,
                      absl::Time deadline, AdmissionDone done) override;
  void Cancel(const std::string& key, std::uint64_t handle) override;
  /// One call at a time runs per id here, so `claim` is not needed.
  void Finish(const std::string& key, std::uint64_t claim, const Result& result,
              Outcome outcome, absl::AnyInvocable<void()> then) override;

  std::size_t size() const;

 private:
  struct Entry {
    enum State { kRunning, kDone, kUnknown } state = kRunning;
    /// The state before the running call began (kUnknown or none), restored
    /// when that call ends with nothing sent.
    bool was_unknown = false;
    Fingerprint fingerprint{};
    Result result = absl::UnknownError("");
    absl::Time expires;
    std::map<std::uint64_t, AdmissionDone> waiters;
    std::list<std::string>::iterator order;
  };
  void EvictLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const IdempotencyConfig config_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> order_ ABSL_GUARDED_BY(mu_);  // oldest first
  std::uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_MEMORY_IDEMPOTENCY_STORE_H_
