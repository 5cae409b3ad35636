#include "server/backends/idempotency_store.h"

#include <functional>
#include <utility>

namespace certbridge {

IdempotencyStore::IdempotencyStore(IdempotencyConfig config, const Clock& clock)
    : config_(config), clock_(clock) {}

std::size_t IdempotencyStore::Fingerprint(
    const v1::CreateCertificateRequest& request) {
  v1::CreateCertificateRequest copy = request;
  copy.clear_request_id();
  std::string bytes;
  copy.SerializeToString(&bytes);
  return std::hash<std::string>()(bytes);
}

std::size_t IdempotencyStore::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void IdempotencyStore::EvictLocked(absl::Time now) {
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

IdempotencyStore::Admission IdempotencyStore::Begin(
    const std::string& key, std::size_t fingerprint,
    Done<v1::Certificate>& waiter) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  EvictLocked(now);
  Admission admission;
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Entry& e = it->second;
    if (e.fingerprint != fingerprint) {
      admission.kind = Admission::kMismatch;
      return admission;
    }
    switch (e.state) {
      case Entry::kDone:
        admission.kind = Admission::kReplayed;
        admission.result = e.result;
        return admission;
      case Entry::kRunning:
        admission.kind = Admission::kJoined;
        e.waiters.push_back(std::move(waiter));
        return admission;
      case Entry::kUnknown:
        admission.previous_outcome_unknown = true;
        e.state = Entry::kRunning;
        e.expires = now + config_.ttl;
        order_.splice(order_.end(), order_, e.order);
        return admission;
    }
  }
  order_.push_back(key);
  Entry& e = entries_[key];
  e.fingerprint = fingerprint;
  e.expires = now + config_.ttl;
  e.order = std::prev(order_.end());
  return admission;
}

void IdempotencyStore::Finish(const std::string& key, const Result& result,
                              bool definitive, bool outcome_unknown) {
  std::vector<Done<v1::Certificate>> waiters;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    Entry& e = it->second;
    waiters = std::move(e.waiters);
    e.waiters.clear();
    if (definitive || outcome_unknown) {
      e.state = definitive ? Entry::kDone : Entry::kUnknown;
      e.result = result;
      e.expires = clock_.Now() + config_.ttl;
      order_.splice(order_.end(), order_, e.order);
    } else {
      // Nothing happened at the backend: forget the id, a repeat is new.
      order_.erase(e.order);
      entries_.erase(it);
    }
  }
  for (auto& w : waiters) w(result);
}

}  // namespace certbridge
