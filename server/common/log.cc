#include "server/common/log.h"

#include <cstdlib>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace certbridge {
namespace {
std::mutex& WriteMutex() {
  static std::mutex mu;
  return mu;
}
}  // namespace

bool ParseLogLevel(absl::string_view text, LogLevel* out) {
  if (text == "debug") {
    *out = LogLevel::kDebug;
  } else if (text == "info") {
    *out = LogLevel::kInfo;
  } else if (text == "warning" || text == "warn") {
    *out = LogLevel::kWarning;
  } else if (text == "error") {
    *out = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

Logger& Logger::Get() {
  static Logger* logger = new Logger();  // never destroyed: used at exit
  return *logger;
}

void Logger::SetLevel(LogLevel level) { level_.store(static_cast<int>(level)); }

bool Logger::Enabled(LogLevel level) const {
  return static_cast<int>(level) >= level_.load(std::memory_order_relaxed);
}

void Logger::SetSink(Sink sink) { sink_ = std::move(sink); }

void Logger::Log(LogLevel level, absl::string_view message,
                 const nlohmann::json& fields) {
  if (!Enabled(level)) return;
  static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
  // ordered_json keeps time, level and msg first for people reading raw logs.
  nlohmann::ordered_json line = {
      {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                absl::UTCTimeZone())},
      {"level", kNames[static_cast<int>(level)]},
      {"msg", std::string(message)}};
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) line[k] = v;
  }
  // Replace invalid UTF-8 instead of throwing: backend messages are untrusted.
  std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (sink_) {
    std::lock_guard<std::mutex> lock(WriteMutex());
    sink_(text);
    return;
  }
  text.push_back('\n');
  if (!async_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(WriteMutex());
    WriteOut(text);
    return;
  }
  absl::MutexLock lock(&mu_);
  if (pending_.size() + text.size() > max_buffered_) {
    ++dropped_;
    return;
  }
  const bool was_empty = pending_.empty();
  pending_.append(text);
  // One wake-up per batch, not per line: the writer sleeps `interval_`
  // after the first line so the lines behind it share one write.
  if (was_empty) wake_ = true;
  if (level >= LogLevel::kError) wake_ = urgent_ = true;
}

void Logger::WriteOut(absl::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
}

void Logger::StartAsyncWrites(absl::Duration interval,
                              std::size_t max_buffered) {
  if (async_.load()) return;
  interval_ = interval;
  max_buffered_ = max_buffered;
  async_.store(true, std::memory_order_release);
  // Detached on purpose: the logger lives until the process ends, and the
  // atexit flush writes what the thread has not.
  std::thread(&Logger::WriterLoop, this).detach();
  std::atexit([] { Logger::Get().Flush(); });
}

void Logger::WriterLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&wake_));
      wake_ = false;
    }
    // Let the lines behind the first one arrive; an error line cuts the wait
    // short.
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&urgent_), interval_);
      urgent_ = false;
    }
    Flush();
  }
}

void Logger::Flush() {
  absl::MutexLock write_lock(&write_mu_);
  std::string batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(pending_);
    if (dropped_ != dropped_reported_) {
      absl::StrAppend(&batch, R"({"time":")",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                       absl::UTCTimeZone()),
                      R"(","level":"error","msg":"log lines dropped: )",
                      R"(stderr did not keep up","dropped_total":)", dropped_,
                      "}\n");
      dropped_reported_ = dropped_;
    }
  }
  if (!batch.empty()) {
    WriteOut(batch);
    std::fflush(stderr);
  }
}

std::uint64_t Logger::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace certbridge
