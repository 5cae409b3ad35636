// A caller's traceparent and tracestate (gRPC metadata, any bytes).
// Input: traceparent, then '\n', then tracestate.
// Properties:
// - an accepted traceparent has a 32-digit trace id and 16-digit parent
//   id, lowercase hex and not all zero, and only the sampled flag;
// - what certbridge sends on (ToTraceparent, and a child's) parses back to
//   the same trace, parent and flags, and the tracestate with it survives;
// - a tracestate passed on is at most 512 bytes of printable ASCII;
// - FromHeaders always yields a valid trace, and drops the tracestate when
//   the traceparent was not accepted.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/common/trace_context.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using certbridge::TraceContext;

bool IdOk(const std::string& id, std::size_t size) {
  if (id.size() != size) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return id.find_first_not_of('0') != std::string::npos;
}

void CheckValid(const TraceContext& t) {
  FUZZ_CHECK(IdOk(t.trace_id(), 32));
  FUZZ_CHECK(IdOk(t.parent_id(), 16));
  FUZZ_CHECK((t.flags() & ~TraceContext::kSampled) == 0);
  FUZZ_CHECK(t.tracestate().size() <= TraceContext::kMaxTracestateBytes);
  for (char c : t.tracestate()) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
  const std::string out = t.ToTraceparent();
  FUZZ_CHECK(out.size() == 55);
  auto again = TraceContext::Parse(out, t.tracestate());
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->trace_id() == t.trace_id());
  FUZZ_CHECK(again->parent_id() == t.parent_id());
  FUZZ_CHECK(again->flags() == t.flags());
  FUZZ_CHECK(again->tracestate() == t.tracestate());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const absl::string_view input = certbridge::fuzz::AsText(data, size);
  const std::size_t nl = input.find('\n');
  const absl::string_view traceparent = input.substr(0, nl);
  const absl::string_view tracestate = nl == absl::string_view::npos
                                           ? absl::string_view()
                                           : input.substr(nl + 1);

  const auto parsed = TraceContext::Parse(traceparent, tracestate);
  if (parsed) {
    CheckValid(*parsed);
    FUZZ_CHECK(traceparent.substr(3, 32) == parsed->trace_id());
    CheckValid(parsed->NewChild(TraceContext::NewSpanId()));
  }
  const TraceContext t = TraceContext::FromHeaders(traceparent, tracestate);
  CheckValid(t);
  if (!parsed) FUZZ_CHECK(t.tracestate().empty());
  return 0;
}
