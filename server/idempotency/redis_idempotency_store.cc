#include "server/idempotency/redis_idempotency_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/log.h"
#include "server/common/uuid.h"
#include "server/idempotency/outcome_codec.h"

namespace certbridge {
namespace {

// One hash per request_id:
//   fp           the request's fingerprint (hex)
//   state        running | done | unknown
//   owner        the running call's claim (a fresh UUID per claim)
//   lease        when that claim lapses unless renewed (Redis TIME, ms)
//   was_unknown  1 when the running call took over an unknown outcome
//   result       the outcome (outcome_codec) once done or unknown
// Times come from the Redis server's clock, so replicas' clocks never
// have to agree.

// KEYS[1] entry; ARGV: fingerprint, owner, lease ms, ttl ms, waiting (1
// when the caller already waited for a running call: an unknown outcome is
// then its answer, as it is for a repeat waiting in the memory store).
// Returns {kind, value}: proceed {0|1 = previous outcome unknown}, replay
// {outcome}, wait, mismatch.
constexpr char kBeginScript[] = R"lua(
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local e = redis.call('HMGET', KEYS[1], 'fp', 'state', 'lease', 'result')
local unknown = '0'
if e[1] then
  if e[1] ~= ARGV[1] then return {'mismatch', ''} end
  if e[2] == 'done' then return {'replay', e[4] or ''} end
  if e[2] == 'running' and tonumber(e[3] or '0') > now then
    return {'wait', ''}
  end
  if e[2] == 'unknown' and ARGV[5] == '1' and e[4] then
    return {'replay', e[4]}
  end
  unknown = '1'
end
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'running',
           'owner', ARGV[2], 'lease', now + tonumber(ARGV[3]),
           'was_unknown', unknown)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'proceed', unknown}
)lua";

// KEYS[1] entry; ARGV: owner, answered|unknown|notsent, outcome, ttl ms.
// Only the claim's owner records: a call whose lease lapsed and was taken
// over leaves the entry to the call that took it. Returns 1 if recorded.
constexpr char kFinishScript[] = R"lua(
local e = redis.call('HMGET', KEYS[1], 'owner', 'was_unknown')
if e[1] ~= ARGV[1] then return 0 end
if ARGV[2] == 'notsent' then
  if e[2] == '1' then
    redis.call('HSET', KEYS[1], 'state', 'unknown', 'owner', '')
  else
    redis.call('DEL', KEYS[1])
  end
  return 1
end
local state = 'unknown'
if ARGV[2] == 'answered' then state = 'done' end
redis.call('HSET', KEYS[1], 'state', state, 'result', ARGV[3], 'owner', '',
           'was_unknown', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
)lua";

// KEYS[1] entry; ARGV: owner, lease ms, expiry ms. Returns 1 while the
// claim holds. The key's own expiry moves too: a call that outlives it
// would otherwise lose its entry, and its repeat would be sent as new.
constexpr char kRenewScript[] = R"lua(
redis.replicate_commands()
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'lease', now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
)lua";

std::string Millis(absl::Duration d) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

absl::Status StoreUnavailable(absl::string_view what) {
  absl::Status s =
      MakeError(absl::StatusCode::kUnavailable,
                absl::StrCat("the idempotency store (Redis) ", what,
                             "; the Create was not sent. Retry with the same "
                             "request_id"),
                reason::kIdempotencyStoreUnavailable);
  SetRetryDelay(s, absl::Seconds(1));
  return s;
}

bool IsString(const RedisReply& r) {
  return r.type == RedisReply::Type::kString ||
         r.type == RedisReply::Type::kStatus;
}

}  // namespace

class RedisIdempotencyStore::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(RedisClient& client, HttpTransport& timers,
       RedisIdempotencyOptions options,
       std::unique_ptr<MemoryIdempotencyStore> local,
       IdempotencyStoreObserver* observer)
      : client_(client),
        timers_(timers),
        options_(std::move(options)),
        local_(std::move(local)),
        observer_(observer) {}

  std::string RedisKeyOf(const std::string& key) const {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(),
           digest);
    return absl::StrCat(
        options_.key_prefix,
        absl::BytesToHexString(absl::string_view(
            reinterpret_cast<const char*>(digest), sizeof(digest))));
  }

  std::uint64_t Begin(const std::string& key, const Fingerprint& fingerprint,
                      absl::Time deadline, AdmissionDone done) {
    auto waiter = std::make_shared<Waiter>();
    waiter->key = key;
    waiter->redis_key = RedisKeyOf(key);
    waiter->fingerprint = fingerprint;
    waiter->deadline = deadline;
    waiter->next_poll = options_.poll_initial;
    waiter->done = std::move(done);
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      stopping = stopping_;
      if (!stopping) {
        waiter->handle = ++next_handle_;
        waiters_[waiter->handle] = waiter;
      }
    }
    if (stopping) {
      waiter->done(StoreUnavailable("is shutting down with this server"));
      return 0;
    }
    const std::uint64_t handle = waiter->handle;
    Attempt(std::move(waiter));
    return handle;
  }

  void Cancel(const std::string& /*key*/, std::uint64_t handle) {
    std::uint64_t local_handle = 0;
    std::string key;
    {
      absl::MutexLock lock(&mu_);
      auto it = waiters_.find(handle);
      if (it == waiters_.end()) return;
      local_handle = it->second->local_handle;
      key = it->second->key;
    }
    if (local_handle != 0) {
      // The local store answers it (CANCELLED) through BeginLocally.
      local_->Cancel(key, local_handle);
      return;
    }
    std::shared_ptr<Waiter> waiter = Take(handle);
    if (waiter == nullptr) return;
    if (waiter->timer != 0) timers_.Cancel(waiter->timer);
    waiter->done(MakeError(absl::StatusCode::kCancelled,
                           "the call was cancelled while waiting for the "
                           "first call with this request_id",
                           reason::kCancelled));
  }

  void Finish(const std::string& key, std::uint64_t claim_id,
              const Result& result, Outcome outcome,
              absl::AnyInvocable<void()> then) {
    std::shared_ptr<Claim> claim;
    HttpTransport::Id renew_timer = 0;
    {
      absl::MutexLock lock(&mu_);
      auto it = claims_.find(claim_id);
      if (it != claims_.end()) {
        claim = std::move(it->second);
        claims_.erase(it);
        claim->finished = true;
        renew_timer = claim->renew_timer;
      }
    }
    if (claim == nullptr) {
      then();
      return;
    }
    if (claim->local) {
      local_->Finish(key, claim->local_claim, result, outcome, std::move(then));
      return;
    }
    if (renew_timer != 0) timers_.Cancel(renew_timer);
    const char* how = outcome == Outcome::kAnswered  ? "answered"
                      : outcome == Outcome::kUnknown ? "unknown"
                                                     : "notsent";
    std::vector<std::string> argv = {
        "EVAL",
        kFinishScript,
        "1",
        claim->redis_key,
        claim->owner,
        how,
        outcome == Outcome::kNotSent ? std::string() : EncodeOutcome(result),
        Millis(options_.ttl)};
    Run("finish", argv,
        [then = std::move(then)](absl::StatusOr<RedisReply> reply) mutable {
          if (!reply.ok() || reply->type == RedisReply::Type::kError) {
            // The claim stays until its lease lapses; a repeat then takes
            // the id over as "outcome unknown" (README "Failure handling").
            LogWarning("idempotency outcome not recorded",
                       {{"code", reply.ok() ? "redis error reply"
                                            : absl::StatusCodeToString(
                                                  reply.status().code())}});
          } else if (reply->type == RedisReply::Type::kInteger &&
                     reply->integer == 0) {
            // Our lease had lapsed and another call took the id over (or
            // Redis lost the entry): this outcome is not the id's.
            LogWarning("idempotency outcome not recorded",
                       {{"code", "claim lost"}});
          }
          then();
        });
  }

  /// Held by a timer callback while it uses the client: the store's owner
  /// destroys the client right after the store, so Stop() waits for these.
  class Active {
   public:
    explicit Active(Core& core) : core_(core) {
      absl::MutexLock lock(&core_.mu_);
      entered_ = !core_.stopping_;
      if (entered_) ++core_.active_;
    }
    ~Active() {
      if (!entered_) return;
      absl::MutexLock lock(&core_.mu_);
      --core_.active_;
    }
    Active(const Active&) = delete;
    Active& operator=(const Active&) = delete;
    explicit operator bool() const { return entered_; }

   private:
    Core& core_;
    bool entered_ = false;
  };

  void Stop() {
    std::map<std::uint64_t, std::shared_ptr<Waiter>> waiters;
    std::vector<HttpTransport::Id> timers;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      mu_.Await(absl::Condition(this, &Core::Idle));
      waiters.swap(waiters_);
      for (auto& [id, claim] : claims_) {
        claim->finished = true;
        if (claim->renew_timer != 0) timers.push_back(claim->renew_timer);
      }
      for (auto& [handle, waiter] : waiters) {
        if (waiter->timer != 0) timers.push_back(waiter->timer);
      }
    }
    for (HttpTransport::Id id : timers) timers_.Cancel(id);
    for (auto& [handle, waiter] : waiters) {
      // Taken out above, so the local store's own answer finds nothing.
      if (waiter->local_handle != 0) {
        local_->Cancel(waiter->key, waiter->local_handle);
      }
      waiter->done(StoreUnavailable("is shutting down with this server"));
    }
  }

 private:
  struct Waiter {
    std::string key;
    std::string redis_key;
    Fingerprint fingerprint{};
    absl::Time deadline;
    std::uint64_t handle = 0;
    AdmissionDone done;
    /// It saw a running call and now waits for its outcome.
    bool waiting = false;
    absl::Duration next_poll;
    HttpTransport::Id timer = 0;
    /// Handed to the local store (fallback_to_local).
    std::uint64_t local_handle = 0;
  };
  struct Claim {
    std::string redis_key;
    std::string owner;
    bool local = false;
    /// The local store's claim (local).
    std::uint64_t local_claim = 0;
    bool finished = false;
    HttpTransport::Id renew_timer = 0;
  };

  std::shared_ptr<Waiter> Take(std::uint64_t handle) {
    absl::MutexLock lock(&mu_);
    auto it = waiters_.find(handle);
    if (it == waiters_.end()) return nullptr;
    std::shared_ptr<Waiter> waiter = std::move(it->second);
    waiters_.erase(it);
    return waiter;
  }

  void Answer(const std::shared_ptr<Waiter>& waiter,
              absl::StatusOr<Admission> admission) {
    if (Take(waiter->handle) == nullptr) return;  // cancelled meanwhile
    waiter->done(std::move(admission));
  }

  void Attempt(std::shared_ptr<Waiter> waiter) {
    std::string owner = NewUuidV4();
    std::vector<std::string> argv = {
        "EVAL",
        kBeginScript,
        "1",
        waiter->redis_key,
        absl::BytesToHexString(absl::string_view(
            reinterpret_cast<const char*>(waiter->fingerprint.data()),
            waiter->fingerprint.size())),
        owner,
        Millis(options_.lease),
        Millis(std::max(options_.ttl, options_.lease)),
        waiter->waiting ? "1" : "0"};
    Run(waiter->waiting ? "poll" : "begin", argv,
        [self = shared_from_this(), waiter,
         owner](absl::StatusOr<RedisReply> reply) mutable {
          self->OnBegin(std::move(waiter), std::move(owner), std::move(reply));
        });
  }

  void OnBegin(std::shared_ptr<Waiter> waiter, std::string owner,
               absl::StatusOr<RedisReply> reply) {
    if (!reply.ok() || reply->type == RedisReply::Type::kError) {
      // The script may have run and claimed the id although its answer
      // was lost: give such a claim back (a no-op unless it is ours).
      Claim orphan;
      orphan.redis_key = waiter->redis_key;
      orphan.owner = owner;
      Release(orphan);
      // Only a call for which Redis may know nothing running may fall
      // back: a repeat already waiting for a running call, or one whose id
      // this process holds a Redis claim on, would be sent a second time.
      if (options_.fallback_to_local && local_ != nullptr && !waiter->waiting &&
          !HoldsRedisClaim(waiter->redis_key)) {
        BeginLocally(std::move(waiter));
        return;
      }
      Answer(waiter, StoreUnavailable(reply.ok() ? "refused the request"
                                                 : "could not be reached"));
      return;
    }
    if (reply->type != RedisReply::Type::kArray ||
        reply->elements.size() != 2 || !IsString(reply->elements[0]) ||
        !IsString(reply->elements[1])) {
      Answer(waiter, StoreUnavailable("answered something unexpected"));
      return;
    }
    const std::string& kind = reply->elements[0].str;
    Admission admission;
    if (kind == "proceed") {
      admission.kind = Admission::kProceed;
      admission.previous_outcome_unknown = reply->elements[1].str == "1";
      TakeClaim(std::move(waiter), std::move(owner), std::move(admission));
      return;
    }
    if (kind == "replay") {
      auto outcome = DecodeOutcome(reply->elements[1].str);
      if (!outcome.ok()) {
        Answer(waiter, outcome.status());
        return;
      }
      admission.kind = Admission::kReplayed;
      admission.result = *std::move(outcome);
      Answer(waiter, std::move(admission));
      return;
    }
    if (kind == "mismatch") {
      admission.kind = Admission::kMismatch;
      Answer(waiter, std::move(admission));
      return;
    }
    if (kind == "wait") {
      Wait(std::move(waiter));
      return;
    }
    Answer(waiter, StoreUnavailable("answered something unexpected"));
  }

  void TakeClaim(std::shared_ptr<Waiter> waiter, std::string owner,
                 Admission admission) {
    auto claim = std::make_shared<Claim>();
    claim->redis_key = waiter->redis_key;
    claim->owner = std::move(owner);
    // The caller is answered and the claim recorded in one step: a Cancel
    // between the two would leave a claim no one finishes, renewed for as
    // long as the key lives, and every repeat waiting for it.
    bool claimed = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = waiters_.find(waiter->handle);
      if (it != waiters_.end() && !stopping_) {
        waiters_.erase(it);
        claims_.emplace(waiter->handle, claim);
        claimed = true;
      }
    }
    if (!claimed) {
      // The caller went away while the claim was being made: give the id
      // back as it was, or it would look running until the lease lapses.
      Release(*claim);
      return;
    }
    ScheduleRenewal(waiter->key, claim);
    admission.claim = waiter->handle;
    waiter->done(std::move(admission));
  }

  bool HoldsRedisClaim(const std::string& redis_key) {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, claim] : claims_) {
      if (!claim->local && claim->redis_key == redis_key) return true;
    }
    return false;
  }

  void Release(const Claim& claim) {
    Run("finish",
        {"EVAL", kFinishScript, "1", claim.redis_key, claim.owner, "notsent",
         "", Millis(options_.ttl)},
        [](const absl::StatusOr<RedisReply>&) {});
  }

  // Every third of the lease; a renewal that failed is tried again after a
  // twelfth, so that with a command timeout of at most a quarter of the
  // lease (the configuration's limit) a second try still answers before the
  // lease lapses: sent at L/3, failed by 7L/12, sent again at 2L/3,
  // answered by 11L/12.
  void ScheduleRenewal(const std::string& key,
                       const std::shared_ptr<Claim>& claim,
                       bool after_failure = false) {
    absl::MutexLock lock(&mu_);
    if (claim->finished || stopping_) return;
    claim->renew_timer = timers_.Schedule(
        after_failure ? options_.lease / 12 : options_.lease / 3,
        [self = shared_from_this(), key, claim](absl::Status slept) {
          if (!slept.ok()) return;  // finished or stopping
          Core::Active active(*self);
          if (!active) return;
          self->Run(
              "renew",
              {"EVAL", kRenewScript, "1", claim->redis_key, claim->owner,
               Millis(self->options_.lease),
               Millis(std::max(self->options_.ttl, self->options_.lease))},
              [self, key, claim](absl::StatusOr<RedisReply> reply) {
                if (reply.ok() && reply->type == RedisReply::Type::kInteger &&
                    reply->integer == 0) {
                  // Taken over after a lapse: the entry is not ours.
                  LogWarning("idempotency claim lost while running");
                  return;
                }
                const bool renewed =
                    reply.ok() && reply->type == RedisReply::Type::kInteger;
                self->ScheduleRenewal(key, claim, /*after_failure=*/!renewed);
              });
        });
  }

  void Wait(std::shared_ptr<Waiter> waiter) {
    const absl::Duration delay = waiter->next_poll;
    waiter->next_poll = std::min(waiter->next_poll * 2, options_.poll_max);
    waiter->waiting = true;
    if (absl::Now() + delay >= waiter->deadline) {
      Answer(waiter,
             MakeError(absl::StatusCode::kDeadlineExceeded,
                       "the deadline passed while waiting for the first call "
                       "with this request_id",
                       reason::kDeadlineExceeded));
      return;
    }
    absl::MutexLock lock(&mu_);
    if (waiters_.count(waiter->handle) == 0 || stopping_) return;
    waiter->timer = timers_.Schedule(
        delay, [self = shared_from_this(), waiter](absl::Status slept) {
          if (!slept.ok()) return;  // cancelled: Cancel or Stop answered it
          Core::Active active(*self);
          if (!active) return;
          self->Attempt(waiter);
        });
  }

  void BeginLocally(std::shared_ptr<Waiter> waiter) {
    // This call's id lives in this process only; Finish must go there too.
    std::uint64_t local_handle = local_->Begin(
        waiter->key, waiter->fingerprint, waiter->deadline,
        [self = shared_from_this(), waiter](absl::StatusOr<Admission> a) {
          if (a.ok() && a->kind == Admission::kProceed) {
            auto claim = std::make_shared<Claim>();
            claim->local = true;
            claim->local_claim = a->claim;
            bool claimed = false;
            {  // as in TakeClaim: answered and recorded in one step
              absl::MutexLock lock(&self->mu_);
              auto it = self->waiters_.find(waiter->handle);
              if (it != self->waiters_.end()) {
                self->waiters_.erase(it);
                self->claims_.emplace(waiter->handle, claim);
                claimed = true;
              }
            }
            if (!claimed) {  // cancelled meanwhile: give the id back
              self->local_->Finish(waiter->key, a->claim,
                                   absl::CancelledError(), Outcome::kNotSent,
                                   [] {});
              return;
            }
            a->claim = waiter->handle;
            waiter->done(std::move(a));
            return;
          }
          self->Answer(waiter, std::move(a));
        });
    absl::MutexLock lock(&mu_);
    if (waiters_.count(waiter->handle) != 0) {
      waiter->local_handle = local_handle;
    }
  }

  // Sends one command; `done` runs on the transport's thread, never on the
  // client's: what follows an answer (the Create's backend request, the
  // reply to its caller, its access line) must not hold up the Redis I/O
  // of every other call.
  void Run(absl::string_view operation, const std::vector<std::string>& argv,
           absl::AnyInvocable<void(absl::StatusOr<RedisReply>)> done) {
    // The client is destroyed right after the store: once stopping, nothing
    // more is sent (Stop waits for a Command() under way).
    Active active(*this);
    if (!active) {
      done(absl::UnavailableError("the idempotency store is stopping"));
      return;
    }
    const absl::Time start = absl::Now();
    client_.Command(argv, [self = shared_from_this(), operation, start,
                           done = std::move(done)](
                              absl::StatusOr<RedisReply> reply) mutable {
      if (self->observer_ != nullptr) {
        const char* result = !reply.ok() ? "unavailable"
                             : reply->type == RedisReply::Type::kError ? "error"
                                                                       : "ok";
        self->observer_->OnRequest(operation, result, absl::Now() - start);
      }
      // Runs `done` whatever the timer's status: a stopped transport runs
      // it at once (CANCELLED), and it must still run exactly once.
      self->timers_.Schedule(absl::ZeroDuration(),
                             [done = std::move(done), reply = std::move(reply)](
                                 const absl::Status& /*slept*/) mutable {
                               done(std::move(reply));
                             });
    });
  }

  RedisClient& client_;
  HttpTransport& timers_;
  const RedisIdempotencyOptions options_;
  const std::unique_ptr<MemoryIdempotencyStore> local_;
  IdempotencyStoreObserver* const observer_;

  absl::Mutex mu_;
  std::uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::uint64_t, std::shared_ptr<Waiter>> waiters_
      ABSL_GUARDED_BY(mu_);
  // Calls this process runs under a claim, by claim id (the Begin's
  // handle): a call whose lease lapsed can be taken over by a repeat in
  // this same process, and each must finish with its own claim (the
  // Finish script records only the one that still holds).
  std::map<std::uint64_t, std::shared_ptr<Claim>> claims_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  /// Timer callbacks inside an Active section.
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_ == 0; }
};

RedisIdempotencyStore::RedisIdempotencyStore(
    RedisClient& client, HttpTransport& timers, RedisIdempotencyOptions options,
    std::unique_ptr<MemoryIdempotencyStore> local,
    IdempotencyStoreObserver* observer)
    : core_(std::make_shared<Core>(client, timers, std::move(options),
                                   std::move(local), observer)) {}

RedisIdempotencyStore::~RedisIdempotencyStore() { core_->Stop(); }

std::uint64_t RedisIdempotencyStore::Begin(const std::string& key,
                                           const Fingerprint& fingerprint,
                                           absl::Time deadline,
                                           AdmissionDone done) {
  return core_->Begin(key, fingerprint, deadline, std::move(done));
}

void RedisIdempotencyStore::Cancel(const std::string& key,
                                   std::uint64_t handle) {
  core_->Cancel(key, handle);
}

void RedisIdempotencyStore::Finish(const std::string& key, std::uint64_t claim,
                                   const Result& result, Outcome outcome,
                                   absl::AnyInvocable<void()> then) {
  core_->Finish(key, claim, result, outcome, std::move(then));
}

std::string RedisIdempotencyStore::RedisKeyOf(const std::string& key) const {
  return core_->RedisKeyOf(key);
}

}  // namespace certbridge
