// A JSON-lines logger on stderr: one object per line with time, level and
// message plus structured fields. Secrets are never passed in; there is no
// free-form formatting of request bodies anywhere.
#ifndef CERTBRIDGE_SERVER_COMMON_LOG_H_
#define CERTBRIDGE_SERVER_COMMON_LOG_H_

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace certbridge {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

/// Parses "debug" | "info" | "warning" | "error".
bool ParseLogLevel(absl::string_view text, LogLevel* out);

class Logger {
 public:
  using Sink = std::function<void(absl::string_view line)>;

  /// The process-wide logger; writes to stderr until SetSink is called.
  static Logger& Get();

  void SetLevel(LogLevel level);
  bool Enabled(LogLevel level) const;
  /// Tests capture lines here. Not thread-safe against concurrent Log calls:
  /// set it before starting servers.
  void SetSink(Sink sink);

  /// Writes one line: {"time":...,"level":...,"msg":...,<fields>}.
  void Log(LogLevel level, absl::string_view message,
           const nlohmann::json& fields = nlohmann::json::object());

 private:
  Logger() = default;
  std::atomic<int> level_{static_cast<int>(LogLevel::kInfo)};
  Sink sink_;
};

inline void LogDebug(absl::string_view msg,
                     const nlohmann::json& fields = nlohmann::json::object()) {
  Logger::Get().Log(LogLevel::kDebug, msg, fields);
}
inline void LogInfo(absl::string_view msg,
                    const nlohmann::json& fields = nlohmann::json::object()) {
  Logger::Get().Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarning(absl::string_view msg, const nlohmann::json& fields =
                                                  nlohmann::json::object()) {
  Logger::Get().Log(LogLevel::kWarning, msg, fields);
}
inline void LogError(absl::string_view msg,
                     const nlohmann::json& fields = nlohmann::json::object()) {
  Logger::Get().Log(LogLevel::kError, msg, fields);
}

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_LOG_H_
