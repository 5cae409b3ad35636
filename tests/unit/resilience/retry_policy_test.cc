#include "server/resilience/retry_policy.h"

#include <gtest/gtest.h>

#include <vector>

#include "absl/random/random.h"
#include "server/common/errors.h"
#include "server/common/failure.h"
#include "server/mapping/http_status_mapping.h"
#include "server/mapping/transport_error_mapping.h"

namespace certbridge {
namespace {

// Statuses as the mapping produces them, so the policy is tested on what
// it really receives (its decisions read the internal FailureFacts).
absl::Status Http(int status, std::optional<ErrorClass> vendor_400 = {}) {
  HttpErrorInput in;
  in.kind = "vendor";
  in.body.bad_request_class = vendor_400;
  in.backend = "b";
  in.http_status = status;
  return MapHttpError(in);
}

absl::Status Transport(TransportErrorKind kind, bool sent) {
  return MapTransportError(TransportError{kind, sent, "detail"}, "b", false);
}

absl::Status TokenEndpoint(int http_status) {
  absl::Status s =
      MakeError(absl::StatusCode::kInternal, "token endpoint", "X");
  FailureFacts facts;
  facts.source = FailureFacts::Source::kTokenEndpoint;
  facts.http_status = http_status;
  SetFailureFacts(s, facts);
  return s;
}

struct Row {
  const char* what;
  absl::Status status;
  bool create;      // may a Create retry it?
  bool idempotent;  // may Get/Update/Delete retry it?
  bool breaker;     // does it count against the breaker?
  bool unknown;     // may the backend have acted?
};

std::vector<Row> Rows() {
  using K = TransportErrorKind;
  return {
      // Never left: every method (errors.md transport rows 1 and 3).
      {"connect refused", Transport(K::kConnectFailed, false), true, true, true,
       false},
      {"dns", Transport(K::kDnsFailure, false), true, true, true, false},
      {"tls handshake reset", Transport(K::kTlsHandshake, false), true, true,
       true, false},
      {"reset before any byte", Transport(K::kConnectionReset, false), true,
       true, true, false},
      // Refused with 429: every method, not a breaker failure.
      {"429", Http(429), true, true, false, false},
      // The backend may have acted: idempotent methods only.
      {"500", Http(500), false, true, true, true},
      {"502", Http(502), false, true, true, true},
      {"503", Http(503), false, true, true, true},
      {"504", Http(504), false, true, true, true},
      {"timeout after send", Transport(K::kTimeout, true), false, true, true,
       true},
      {"reset after send", Transport(K::kConnectionReset, true), false, true,
       true, true},
      // Every other 5xx counts for the breaker but is not retried.
      {"501", Http(501), false, false, true, true},
      {"505", Http(505), false, false, true, true},
      {"520", Http(520), false, false, true, true},
      {"599", Http(599), false, false, true, true},
      // A certificate the trust store rejects: counted, never retried.
      {"tls verification", Transport(K::kTlsVerification, false), false, false,
       true, false},
      // The token endpoint failing: the API call never left.
      {"token endpoint 503", TokenEndpoint(503), true, true, true, false},
      {"token endpoint 501", TokenEndpoint(501), false, false, true, false},
      {"token endpoint refusal", TokenEndpoint(401), false, false, false,
       false},
      // Answers about the request: nothing to retry or count.
      {"400", Http(400), false, false, false, false},
      {"400 read by the vendor",
       Http(400,
            ErrorClass{absl::StatusCode::kNotFound, "CERTIFICATE_NOT_FOUND"}),
       false, false, false, false},
      {"401", Http(401), false, false, false, false},
      {"404", Http(404), false, false, false, false},
      {"409", Http(409), false, false, false, false},
      {"malformed 200", MalformedResponseError("b", 200, "x"), false, false,
       false, false},
      // Raised by certbridge itself.
      {"circuit open",
       MakeError(absl::StatusCode::kUnavailable, "open",
                 reason::kBackendCircuitOpen),
       false, false, false, false},
      {"deadline", absl::DeadlineExceededError("late"), false, false, false,
       false},
  };
}

TEST(RetryPolicyTest, EveryErrorsMdRowRetriesCountsAndFlagsAsSpecified) {
  for (const Row& row : Rows()) {
    SCOPED_TRACE(row.what);
    EXPECT_EQ(IsRetryable(row.status, Operation::kCreate), row.create);
    for (Operation op :
         {Operation::kGet, Operation::kUpdate, Operation::kDelete}) {
      EXPECT_EQ(IsRetryable(row.status, op), row.idempotent);
    }
    const FailureTraits t = ClassifyFailure(row.status);
    EXPECT_EQ(t.breaker_failure, row.breaker);
    EXPECT_EQ(t.outcome_unknown, row.unknown);
  }
}

TEST(RetryPolicyTest, OnlyAnswersAboutTheRequestAreDefinitive) {
  EXPECT_TRUE(IsBackendAnswer(absl::OkStatus()));
  EXPECT_TRUE(IsBackendAnswer(Http(400)));
  EXPECT_TRUE(IsBackendAnswer(Http(404)));
  EXPECT_TRUE(IsBackendAnswer(Http(409)));
  EXPECT_TRUE(IsBackendAnswer(MalformedResponseError("b", 200, "x")));
  // Issue 10 finding 7: fail-fast and environmental failures are not.
  EXPECT_FALSE(IsBackendAnswer(Http(401)));
  EXPECT_FALSE(IsBackendAnswer(Http(403)));
  EXPECT_FALSE(IsBackendAnswer(Http(429)));
  EXPECT_FALSE(IsBackendAnswer(Http(500)));
  EXPECT_FALSE(IsBackendAnswer(TokenEndpoint(503)));
  EXPECT_FALSE(IsBackendAnswer(TokenEndpoint(401)));
  EXPECT_FALSE(
      IsBackendAnswer(Transport(TransportErrorKind::kTlsVerification, false)));
  EXPECT_FALSE(IsBackendAnswer(MakeError(absl::StatusCode::kUnavailable, "open",
                                         reason::kBackendCircuitOpen)));
}

TEST(RetryPolicyTest, FullJitterStaysUnderTheExponentialCeiling) {
  RetryConfig c;
  c.initial_backoff = absl::Milliseconds(100);
  c.multiplier = 2;
  c.max_backoff = absl::Milliseconds(700);
  absl::BitGen gen;
  absl::Duration max_seen[5];
  for (int i = 0; i < 2000; ++i) {
    for (int retry = 1; retry <= 4; ++retry) {
      const absl::Duration d = BackoffDelay(c, retry, std::nullopt, gen);
      ASSERT_GE(d, absl::ZeroDuration());
      max_seen[retry] = std::max(max_seen[retry], d);
    }
  }
  // Ceilings 100, 200, 400, then capped at 700 ms; jitter reaches near them.
  EXPECT_LE(max_seen[1], absl::Milliseconds(100));
  EXPECT_GT(max_seen[1], absl::Milliseconds(90));
  EXPECT_LE(max_seen[2], absl::Milliseconds(200));
  EXPECT_GT(max_seen[2], absl::Milliseconds(180));
  EXPECT_LE(max_seen[4], absl::Milliseconds(700));
  EXPECT_GT(max_seen[4], absl::Milliseconds(600));
}

TEST(RetryPolicyTest, RetryAfterIsAFloorAndIsCapped) {
  RetryConfig c;
  c.retry_after_cap = absl::Seconds(10);
  absl::BitGen gen;
  EXPECT_GE(BackoffDelay(c, 1, absl::Seconds(2), gen), absl::Seconds(2));
  EXPECT_EQ(BackoffDelay(c, 1, absl::Seconds(120), gen), absl::Seconds(10));
}

}  // namespace
}  // namespace certbridge
