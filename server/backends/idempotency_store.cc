#include "server/backends/idempotency_store.h"

#include <openssl/evp.h>

#include <memory>
#include <utility>

#include "google/protobuf/io/zero_copy_stream.h"
#include "server/common/errors.h"

namespace certbridge {
namespace {

// Feeds serialized bytes straight into a digest: fingerprinting a 5 MiB
// upload must not copy it.
class DigestStream final : public google::protobuf::io::ZeroCopyOutputStream {
 public:
  explicit DigestStream(EVP_MD_CTX* md) : md_(md) {}
  bool Next(void** data, int* size) override {
    Flush();
    *data = buffer_;
    *size = sizeof(buffer_);
    pending_ = sizeof(buffer_);
    return true;
  }
  void BackUp(int count) override { pending_ -= count; }
  int64_t ByteCount() const override { return total_; }
  void Flush() {
    if (pending_ > 0) EVP_DigestUpdate(md_, buffer_, pending_);
    total_ += pending_;
    pending_ = 0;
  }

 private:
  EVP_MD_CTX* md_;
  char buffer_[8192];
  int pending_ = 0;
  int64_t total_ = 0;
};

}  // namespace

IdempotencyStore::IdempotencyStore(IdempotencyConfig config, const Clock& clock)
    : config_(config), clock_(clock) {}

IdempotencyStore::Fingerprint IdempotencyStore::FingerprintOf(
    const v1::CreateCertificateRequest& request) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(),
                                                             EVP_MD_CTX_free);
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  // Every field but request_id and parent, each length-prefixed so that no
  // two requests share a digest input. The parent is in the key, parsed, so
  // two spellings of one parent are one request.
  const auto feed = [&](absl::string_view bytes) {
    const uint64_t n = bytes.size();
    EVP_DigestUpdate(md.get(), &n, sizeof(n));
    EVP_DigestUpdate(md.get(), bytes.data(), bytes.size());
  };
  feed(request.certificate_id());
  {
    DigestStream stream(md.get());
    request.certificate().SerializeToZeroCopyStream(&stream);
    stream.Flush();
  }
  Fingerprint out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), out.data(), &len);
  return out;
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
    const std::string& key, const Fingerprint& fingerprint,
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
        admission.waiter = ++next_waiter_;
        e.waiters.emplace(admission.waiter, std::move(waiter));
        return admission;
      case Entry::kUnknown:
        admission.previous_outcome_unknown = true;
        e.state = Entry::kRunning;
        e.was_unknown = true;
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
                              Outcome outcome) {
  std::map<std::uint64_t, Done<v1::Certificate>> waiters;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
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
  for (auto& [id, w] : waiters) w(result);
}

void IdempotencyStore::Abandon(const std::string& key, std::uint64_t waiter) {
  Done<v1::Certificate> done;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    auto w = it->second.waiters.find(waiter);
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
