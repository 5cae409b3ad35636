// The IdempotencyStore replicas share, in Redis: a Create claims its
// request_id before it is sent, wherever the repeat lands it finds the
// claim or the outcome. One hash per id (fingerprint, state, the claim's
// owner and lease, the outcome), changed only by Lua scripts so every
// decision is one atomic step on the Redis server.
//
// A claim is a lease, renewed while its call runs: if the replica running
// the call dies, the lease runs out and the next repeat takes the id over
// as "outcome unknown" (the dead call may have reached the backend), which
// is what lets Apinizer's read-back recovery run.
//
// Every Redis exchange is asynchronous (RedisClient's own thread); waits
// between polls are the transport's timers, and what follows an answer runs
// on the transport's thread, so the client's thread only does Redis I/O.
// Nothing here blocks the caller's thread.
#ifndef CERTBRIDGE_SERVER_IDEMPOTENCY_REDIS_IDEMPOTENCY_STORE_H_
#define CERTBRIDGE_SERVER_IDEMPOTENCY_REDIS_IDEMPOTENCY_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/backends/idempotency_store.h"
#include "server/backends/memory_idempotency_store.h"
#include "server/http/http_transport.h"
#include "server/idempotency/redis_client.h"

namespace certbridge {

/// Sees every Redis round trip, for metrics.
class IdempotencyStoreObserver {
 public:
  virtual ~IdempotencyStoreObserver() = default;
  /// `operation`: begin, poll, renew or finish; `result`: ok, unavailable
  /// (no answer: down, slow, refused) or error (an answer that is not one).
  virtual void OnRequest(absl::string_view operation, absl::string_view result,
                         absl::Duration latency) = 0;
};

struct RedisIdempotencyOptions {
  std::string key_prefix = "certbridge:idempotency:";
  /// How long an outcome is kept (idempotency.ttl).
  absl::Duration ttl = absl::Minutes(10);
  /// How long a claim lasts unrenewed: a crashed replica's ids are taken
  /// over after at most this long.
  absl::Duration lease = absl::Seconds(10);
  /// A repeat waiting for a running call polls at this interval, doubling
  /// up to poll_max.
  absl::Duration poll_initial = absl::Milliseconds(25);
  absl::Duration poll_max = absl::Milliseconds(500);
  /// When Redis cannot answer a Begin: false fails the Create with
  /// UNAVAILABLE (IDEMPOTENCY_STORE_UNAVAILABLE) before anything is sent;
  /// true falls back to this process's own store for that call.
  bool fallback_to_local = false;
};

class RedisIdempotencyStore final : public IdempotencyStore {
 public:
  /// `client`, `timers` and `observer` (may be null) must outlive the store,
  /// and `timers` the client too (the client's last answers are handed to
  /// it); `local` is used only with fallback_to_local.
  RedisIdempotencyStore(RedisClient& client, HttpTransport& timers,
                        RedisIdempotencyOptions options,
                        std::unique_ptr<MemoryIdempotencyStore> local,
                        IdempotencyStoreObserver* observer);
  ~RedisIdempotencyStore() override;

  std::uint64_t Begin(const std::string& key, const Fingerprint& fingerprint,
                      absl::Time deadline, AdmissionDone done) override;
  void Cancel(const std::string& key, std::uint64_t handle) override;
  void Finish(const std::string& key, std::uint64_t claim, const Result& result,
              Outcome outcome, absl::AnyInvocable<void()> then) override;

  /// The Redis key of `key`: a digest, so a caller's request_id never
  /// reaches Redis (or its monitoring) as text and every key has one size.
  std::string RedisKeyOf(const std::string& key) const;

 private:
  // Redis answers and timers can arrive after the store is gone: they hold
  // the core, which the store only stops.
  class Core;
  const std::shared_ptr<Core> core_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_IDEMPOTENCY_REDIS_IDEMPOTENCY_STORE_H_
