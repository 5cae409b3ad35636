#include "tests/emulator/request_log.h"

#include <algorithm>
#include <utility>

namespace certbridge::emulator {

std::uint64_t RequestLog::Add(RecordedRequest request) {
  std::uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = first_id_ + entries_.size();
    entries_.push_back(std::move(request));
  }
  cv_.notify_all();
  return id;
}

void RequestLog::Update(std::uint64_t id,
                        const std::function<void(RecordedRequest&)>& edit) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (id < first_id_ || id - first_id_ >= entries_.size()) return;
    edit(entries_[id - first_id_]);
  }
  cv_.notify_all();
}

std::vector<RecordedRequest> RequestLog::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {entries_.begin(), entries_.end()};
}

void RequestLog::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  first_id_ += entries_.size();
  entries_.clear();
}

bool RequestLog::WaitFor(
    const std::function<bool(const RecordedRequest&)>& pred,
    absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(
      lock, absl::ToChronoMilliseconds(timeout) + std::chrono::milliseconds(1),
      [&] { return std::any_of(entries_.begin(), entries_.end(), pred); });
}

}  // namespace certbridge::emulator
