#include "server/backends/memory_idempotency_store.h"

#include <iterator>
#include <utility>

#include "server/common/errors.h"

namespace certbridge {

MemoryIdempotencyStore::MemoryIdempotencyStore(IdempotencyConfig config,
                                               const Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

std::size_t MemoryIdempotencyStore::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void MemoryIdempotencyStore::EvictLocked(absl::Time now) {
  // Oldest first: expired entries, then the oldest finished ones over the
  // bound. Running calls are never evicted (their waiters need them).
  for (auto it = order_.begin(); it != order_.end();) {
    auto entry = entries_.find(*it);
    const bool over = static_cast<int>(entries_.size()) > config_.max_entries;
    const bool expired = entry->second.expires <= now;
    if (entry->second.state != Entry::kRunning && (expired || over)) {
      entries_.erase(entry);
      it = order_.erase(it);
    } else if (!over && !expired) {
      break;
    } else {
      ++it;
    }
  }
}

std::uint64_t MemoryIdempotencyStore::Begin(const std::string& key,
                                            const Fingerprint& fingerprint,
                                            absl::Time /*deadline*/,
                                            AdmissionDone done) {
  Admission admission;
  std::uint64_t handle = 0;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    EvictLocked(now);
    handle = ++next_handle_;
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      order_.push_back(key);
      Entry& e = entries_[key];
      e.fingerprint = fingerprint;
      e.expires = now + config_.ttl;
      e.order = std::prev(order_.end());
    } else if (Entry& e = it->second; e.fingerprint != fingerprint) {
      admission.kind = Admission::kMismatch;
    } else if (e.state == Entry::kDone) {
      admission.kind = Admission::kReplayed;
      admission.result = e.result;
    } else if (e.state == Entry::kRunning) {
      // Answered by the running call's Finish, outside this lock.
      e.waiters.emplace(handle, std::move(done));
      return handle;
    } else {  // kUnknown: this repeat runs, flagged
      admission.previous_outcome_unknown = true;
      e.state = Entry::kRunning;
      e.was_unknown = true;
      e.expires = now + config_.ttl;
      order_.splice(order_.end(), order_, e.order);
    }
  }
  admission.claim = handle;
  done(std::move(admission));
  return handle;
}

void MemoryIdempotencyStore::Finish(const std::string& key,
                                    std::uint64_t /*claim*/,
                                    const Result& result, Outcome outcome,
                                    absl::AnyInvocable<void()> then) {
  std::map<std::uint64_t, AdmissionDone> waiters;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      Entry& e = it->second;
      waiters.swap(e.waiters);
      if (outcome == Outcome::kNotSent && !e.was_unknown) {
        // Nothing happened at the backend, now or before: forget the id.
        order_.erase(e.order);
        entries_.erase(it);
      } else {
        const bool answered = outcome == Outcome::kAnswered;
        e.state = answered ? Entry::kDone : Entry::kUnknown;
        e.was_unknown = false;
        if (answered || outcome == Outcome::kUnknown) e.result = result;
        e.expires = clock_.Now() + config_.ttl;
        order_.splice(order_.end(), order_, e.order);
      }
    }
  }
  for (auto& [id, w] : waiters) {
    Admission replay;
    replay.kind = Admission::kReplayed;
    replay.result = result;
    w(std::move(replay));
  }
  then();
}

void MemoryIdempotencyStore::Cancel(const std::string& key,
                                    std::uint64_t handle) {
  AdmissionDone done;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    auto w = it->second.waiters.find(handle);
    if (w == it->second.waiters.end()) return;
    done = std::move(w->second);
    it->second.waiters.erase(w);
  }
  done(MakeError(absl::StatusCode::kCancelled,
                 "the call was cancelled while waiting for the first call "
                 "with this request_id",
                 reason::kCancelled));
}

}  // namespace certbridge
