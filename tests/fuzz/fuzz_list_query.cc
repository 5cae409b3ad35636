// ListCertificates' filter and order_by come straight from callers.
// Properties:
// - errors are INVALID_ARGUMENT with one field violation naming the field,
//   and messages stay short whatever the input (never the input echoed);
// - an accepted filter has 0..kMaxFilterTerms bounds within
//   google.protobuf.Timestamp's range, and Matches agrees with the bounds
//   for times just around each bound; without an expiry only the empty
//   filter matches;
// - parsing is deterministic, and the input with spaces around it parses
//   to the same result.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/errors.h"
#include "server/common/list_query.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using certbridge::ExpireTimeBound;
using certbridge::ListFilter;

bool Holds(const ExpireTimeBound& b, absl::Time t) {
  switch (b.op) {
    case ExpireTimeBound::Op::kLess:
      return t < b.time;
    case ExpireTimeBound::Op::kLessOrEqual:
      return t <= b.time;
    case ExpireTimeBound::Op::kGreater:
      return t > b.time;
    case ExpireTimeBound::Op::kGreaterOrEqual:
      return t >= b.time;
  }
  return false;
}

bool Same(const ListFilter& a, const ListFilter& b) {
  if (a.expire_time.size() != b.expire_time.size()) return false;
  for (std::size_t i = 0; i < a.expire_time.size(); ++i) {
    if (a.expire_time[i].op != b.expire_time[i].op ||
        a.expire_time[i].time != b.expire_time[i].time) {
      return false;
    }
  }
  return true;
}

void CheckError(const absl::Status& status, const char* field) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  auto violations = certbridge::GetFieldViolations(status);
  FUZZ_CHECK(violations.size() == 1);
  FUZZ_CHECK(violations[0].field == field);
  // A short piece of the input at most (quoted <= 32 bytes, escaped).
  FUZZ_CHECK(status.message().size() <= 400);
  FUZZ_CHECK(certbridge::fuzz::ValidUtf8(status.message()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input = certbridge::fuzz::AsText(data, size);

  auto filter = certbridge::ParseListFilter(input);
  if (filter.ok()) {
    FUZZ_CHECK(input.size() <= certbridge::kMaxFilterBytes);
    FUZZ_CHECK(static_cast<int>(filter->expire_time.size()) <=
               certbridge::kMaxFilterTerms);
    FUZZ_CHECK(filter->Matches(std::nullopt) == filter->expire_time.empty());
    for (const ExpireTimeBound& b : filter->expire_time) {
      FUZZ_CHECK(b.time >= absl::FromUnixSeconds(-62135596800));
      FUZZ_CHECK(b.time <=
                 absl::FromUnixSeconds(253402300799) + absl::Seconds(1));
      for (absl::Duration d : {-absl::Nanoseconds(1), absl::ZeroDuration(),
                               absl::Nanoseconds(1)}) {
        const absl::Time t = b.time + d;
        bool all = true;
        for (const ExpireTimeBound& other : filter->expire_time) {
          all = all && Holds(other, t);
        }
        FUZZ_CHECK(filter->Matches(t) == all);
      }
    }
    auto again = certbridge::ParseListFilter(input);
    FUZZ_CHECK(again.ok() && Same(*filter, *again));
    if (input.size() + 2 <= certbridge::kMaxFilterBytes) {
      auto padded = certbridge::ParseListFilter(" " + std::string(input) + " ");
      FUZZ_CHECK(padded.ok() && Same(*filter, *padded));
    }
  } else {
    CheckError(filter.status(), "filter");
  }

  auto order = certbridge::ParseListOrder(input);
  if (!order.ok()) CheckError(order.status(), "order_by");
  return 0;
}
