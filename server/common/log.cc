#include "server/common/log.h"

#include <mutex>

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
  std::lock_guard<std::mutex> lock(WriteMutex());
  if (sink_) {
    sink_(text);
    return;
  }
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace certbridge
