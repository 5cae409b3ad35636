#include "server/common/trace_context.h"

#include <cstdint>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace certbridge {
namespace {

// version(2) - trace-id(32) - parent-id(16) - flags(2)
constexpr std::size_t kTraceparentSize = 55;

bool LowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !s.empty();
}

bool AllZero(absl::string_view s) {
  return s.find_first_not_of('0') == absl::string_view::npos;
}

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

// A thread's own generator: ids are made on every backend attempt, and a
// shared one would need a lock (std::random_device per id costs a syscall).
absl::BitGen& Gen() {
  thread_local absl::BitGen gen;
  return gen;
}

std::string RandomHex64() {
  std::uint64_t v = 0;
  // All zero is invalid as a trace or span id (and 1 in 2^64).
  while (v == 0) v = absl::Uniform<std::uint64_t>(Gen());
  return absl::StrFormat("%016x", v);
}

// The spec's list syntax, loosely: the members' own grammar is the vendors'
// business, but anything that could break a header or a log line, or cost
// more than a bounded copy per attempt, is not passed on.
bool UsableTracestate(absl::string_view state) {
  if (state.size() > TraceContext::kMaxTracestateBytes) return false;
  for (char c : state) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  int members = 0;
  for (absl::string_view member : absl::StrSplit(state, ',')) {
    member = absl::StripAsciiWhitespace(member);
    if (member.empty()) continue;  // empty list members are allowed
    const std::size_t eq = member.find('=');
    if (eq == 0 || eq == absl::string_view::npos) return false;
    if (++members > TraceContext::kMaxTracestateMembers) return false;
  }
  return true;
}

}  // namespace

std::optional<TraceContext> TraceContext::Parse(absl::string_view traceparent,
                                                absl::string_view tracestate) {
  const absl::string_view tp = traceparent;
  if (tp.size() < kTraceparentSize) return std::nullopt;
  const absl::string_view version = tp.substr(0, 2);
  if (!LowerHex(version) || version == "ff") return std::nullopt;
  // Version 00 is exactly its four fields. A later version may append
  // fields after another dash; its first four are read as 00's
  // (the spec's rule for versions this does not know).
  if (version == "00"
          ? tp.size() != kTraceparentSize
          : tp.size() > kTraceparentSize && tp[kTraceparentSize] != '-') {
    return std::nullopt;
  }
  if (tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return std::nullopt;
  const absl::string_view trace_id = tp.substr(3, 32);
  const absl::string_view parent_id = tp.substr(36, 16);
  const absl::string_view flags = tp.substr(53, 2);
  if (!LowerHex(trace_id) || AllZero(trace_id) || !LowerHex(parent_id) ||
      AllZero(parent_id) || !LowerHex(flags)) {
    return std::nullopt;
  }
  // Level 1 defines the sampled bit only and has the others sent as zero;
  // what goes on is version 00, so only that bit is kept.
  const auto bits =
      static_cast<std::uint8_t>(HexValue(flags[0]) * 16 + HexValue(flags[1]));
  // Optional white space around the list (RFC 9110: spaces and tabs) is
  // not part of it; any other control byte makes it unusable.
  const std::size_t begin = tracestate.find_first_not_of(" \t");
  tracestate = begin == absl::string_view::npos
                   ? absl::string_view()
                   : tracestate.substr(
                         begin, tracestate.find_last_not_of(" \t") + 1 - begin);
  return TraceContext(
      std::string(trace_id), std::string(parent_id), bits & kSampled,
      UsableTracestate(tracestate) ? std::string(tracestate) : std::string());
}

TraceContext TraceContext::Generate() {
  return TraceContext(RandomHex64() + RandomHex64(), NewSpanId(), 0,
                      std::string());
}

TraceContext TraceContext::FromHeaders(absl::string_view traceparent,
                                       absl::string_view tracestate) {
  if (auto parsed = Parse(traceparent, tracestate)) return *std::move(parsed);
  // A tracestate belongs to the traceparent it came with: not to a new trace.
  return Generate();
}

std::string TraceContext::NewSpanId() { return RandomHex64(); }

TraceContext TraceContext::NewChild(std::string span_id) const {
  return TraceContext(trace_id_, std::move(span_id), flags_, tracestate_);
}

std::string TraceContext::ToTraceparent() const {
  return absl::StrFormat("00-%s-%s-%02x", trace_id_, parent_id_, flags_);
}

}  // namespace certbridge
