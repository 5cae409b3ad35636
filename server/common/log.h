// A JSON-lines logger on stderr: one object per line with time, level and
// message plus structured fields. Secrets are never passed in; there is no
// free-form formatting of request bodies anywhere.
//
// The server writes asynchronously (StartAsyncWrites): a line is appended to
// a buffer and a writer thread flushes it every few milliseconds, so the
// thread that finishes an RPC does not pay a write(2) and a global lock per
// access line. Tools and tests keep the synchronous default.
#ifndef CERTBRIDGE_SERVER_COMMON_LOG_H_
#define CERTBRIDGE_SERVER_COMMON_LOG_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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

  /// From now on lines go through a buffer flushed by a writer thread at
  /// most `interval` after they were logged; errors wake it at once. At most
  /// `max_buffered` bytes wait: beyond that lines are dropped and counted
  /// (a stuck stderr must not grow memory or stall RPCs), and a line saying
  /// how many follows. Registers Flush with atexit. Call once, early.
  void StartAsyncWrites(absl::Duration interval = absl::Milliseconds(20),
                        std::size_t max_buffered = 8u << 20);
  /// Writes whatever is buffered; returns when it is written.
  void Flush();
  /// Lines dropped because the buffer was full (since start).
  std::uint64_t dropped() const;

 private:
  Logger() = default;
  void WriterLoop();
  void WriteOut(absl::string_view text);

  std::atomic<int> level_{static_cast<int>(LogLevel::kInfo)};
  Sink sink_;

  std::atomic<bool> async_{false};
  absl::Duration interval_;
  std::size_t max_buffered_ = 0;
  // Held while bytes go to stderr, so a Flush and the writer keep order.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool wake_ ABSL_GUARDED_BY(mu_) = false;    // a batch is waiting
  bool urgent_ ABSL_GUARDED_BY(mu_) = false;  // an error line is in it
  std::uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t dropped_reported_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread writer_;
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
