// W3C Trace Context (level 1) for one call: the trace a caller's
// `traceparent` names, or a fresh one when it names none usable. Every
// backend attempt becomes a child span of it (NewChild) with its own span
// id, so a vendor's logs can be joined to certbridge's by trace id and to
// one attempt by span id.
#ifndef CERTBRIDGE_SERVER_COMMON_TRACE_CONTEXT_H_
#define CERTBRIDGE_SERVER_COMMON_TRACE_CONTEXT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace certbridge {

class TraceContext {
 public:
  /// Bounds on a `tracestate` passed on; one past them drops it whole.
  static constexpr std::size_t kMaxTracestateBytes = 512;
  static constexpr int kMaxTracestateMembers = 32;
  static constexpr std::uint8_t kSampled = 0x01;

  /// The caller's `traceparent` and `tracestate` (empty when absent).
  /// nullopt when `traceparent` is not valid; a `tracestate` that is not
  /// within the bounds above is dropped, the traceparent still stands.
  static std::optional<TraceContext> Parse(absl::string_view traceparent,
                                           absl::string_view tracestate);
  /// A new trace: random trace and span ids, not sampled (certbridge
  /// records no spans itself, so it does not claim to have).
  static TraceContext Generate();
  /// Parse, or Generate when the caller's header is unusable.
  static TraceContext FromHeaders(absl::string_view traceparent,
                                  absl::string_view tracestate);

  /// 16 random lowercase hex digits, never all zero.
  static std::string NewSpanId();

  /// The same trace, flags and tracestate with `span_id` as parent id.
  TraceContext NewChild(std::string span_id) const;

  /// "00-<trace id>-<parent id>-<flags>". Always version 00: that is the
  /// version this implements, whatever version the caller sent.
  std::string ToTraceparent() const;

  /// 32 lowercase hex digits.
  const std::string& trace_id() const { return trace_id_; }
  /// 16 lowercase hex digits: the caller's span, or this hop's.
  const std::string& parent_id() const { return parent_id_; }
  std::uint8_t flags() const { return flags_; }
  bool sampled() const { return (flags_ & kSampled) != 0; }
  /// Empty when the caller sent none (or one that was dropped).
  const std::string& tracestate() const { return tracestate_; }

 private:
  TraceContext(std::string trace_id, std::string parent_id, std::uint8_t flags,
               std::string tracestate)
      : trace_id_(std::move(trace_id)),
        parent_id_(std::move(parent_id)),
        flags_(flags),
        tracestate_(std::move(tracestate)) {}

  std::string trace_id_;
  std::string parent_id_;
  std::uint8_t flags_ = 0;
  std::string tracestate_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_TRACE_CONTEXT_H_
