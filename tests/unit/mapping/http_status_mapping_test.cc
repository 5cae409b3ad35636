// One row per line of errors.md "Backend HTTP responses", so a change to the
// contract fails here first. (Vendors' readings of their 400 bodies are
// tested in their folders.)
#include "server/mapping/http_status_mapping.h"

#include <gtest/gtest.h>

#include "server/common/errors.h"

namespace certbridge {
namespace {

struct Row {
  Operation op;
  int http;
  const char* message;
  absl::StatusCode code;
  const char* reason;
};

class HttpStatusMappingTest : public ::testing::TestWithParam<Row> {};

TEST_P(HttpStatusMappingTest, MapsAsErrorsMdSays) {
  const Row& row = GetParam();
  HttpErrorInput in;
  in.kind = "leegality";
  in.operation = row.op;
  in.backend = "b1";
  in.http_status = row.http;
  in.body.message = row.message;
  in.body.code = "LE_ERR_SS_X";
  in.body.inner_code = "LE_ERR_SS_Y";
  absl::Status s = MapHttpError(in);
  EXPECT_EQ(s.code(), row.code) << row.http << " " << row.message;
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, row.reason) << row.http << " " << row.message;
  EXPECT_EQ(info->metadata.at("backend"), "b1");
  EXPECT_EQ(info->metadata.at("httpStatus"), std::to_string(row.http));
  EXPECT_EQ(info->metadata.at("backendCode"), "LE_ERR_SS_X/LE_ERR_SS_Y");
  EXPECT_NE(s.message().find("b1"), absl::string_view::npos);
}

constexpr auto kCreate = Operation::kCreate;
constexpr auto kGet = Operation::kGet;
constexpr auto kUpdate = Operation::kUpdate;
constexpr auto kDelete = Operation::kDelete;
using C = absl::StatusCode;

INSTANTIATE_TEST_SUITE_P(
    ErrorsMd, HttpStatusMappingTest,
    ::testing::Values(
        Row{kGet, 400, "Invalid UUID provided.", C::kInvalidArgument,
            "BACKEND_REJECTED_REQUEST"},
        // A vendor page's 400 example carries a not-found code: ignored.
        Row{kCreate, 400, "Certificate with id x does not exist",
            C::kInvalidArgument, "BACKEND_REJECTED_REQUEST"},
        Row{kGet, 401, "Invalid or expired token", C::kInternal,
            "BACKEND_AUTH_FAILED"},
        Row{kGet, 403, "Access denied", C::kPermissionDenied,
            "BACKEND_PERMISSION_DENIED"},
        Row{kGet, 404, "", C::kNotFound, "CERTIFICATE_NOT_FOUND"},
        Row{kDelete, 404, "", C::kNotFound, "CERTIFICATE_NOT_FOUND"},
        Row{kCreate, 409, "already exists", C::kAlreadyExists,
            "CERTIFICATE_ALREADY_EXISTS"},
        Row{kUpdate, 409, "", C::kAborted, "CONCURRENT_MODIFICATION"},
        Row{kDelete, 409, "", C::kAborted, "CONCURRENT_MODIFICATION"},
        Row{kCreate, 413, "too big", C::kInvalidArgument, "FILE_TOO_LARGE"},
        Row{kCreate, 429, "", C::kResourceExhausted, "BACKEND_RATE_LIMITED"},
        Row{kGet, 500, "Internal Server Error", C::kInternal,
            "BACKEND_INTERNAL_ERROR"},
        Row{kGet, 502, "", C::kUnavailable, "BACKEND_UNAVAILABLE"},
        Row{kGet, 503, "", C::kUnavailable, "BACKEND_UNAVAILABLE"},
        Row{kGet, 504, "", C::kUnavailable, "BACKEND_TIMEOUT"},
        Row{kCreate, 415, "", C::kInvalidArgument, "BACKEND_ERROR"},
        Row{kGet, 418, "", C::kInvalidArgument, "BACKEND_ERROR"},
        Row{kGet, 501, "", C::kInternal, "BACKEND_ERROR"},
        Row{kGet, 302, "", C::kInternal, "BACKEND_ERROR"}));

// A vendor that reuses 400 for everything says what each 400 means; the
// reading applies to 400 only: every other status keeps its table row.
TEST(HttpStatusMappingTest, VendorReadingOfA400AppliesTo400Only) {
  HttpErrorInput in;
  in.kind = "vendor";
  in.backend = "b1";
  in.body.bad_request_class =
      ErrorClass{absl::StatusCode::kNotFound, reason::kCertificateNotFound};
  in.http_status = 400;
  EXPECT_EQ(MapHttpError(in).code(), absl::StatusCode::kNotFound);
  in.http_status = 500;
  EXPECT_EQ(MapHttpError(in).code(), absl::StatusCode::kInternal);
  in.http_status = 409;
  EXPECT_EQ(MapHttpError(in).code(), absl::StatusCode::kAborted);
  in.body.bad_request_class.reset();
  in.http_status = 400;
  EXPECT_EQ(MapHttpError(in).code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpStatusMappingTest, RetryInfoFromRetryAfterOn429And503Only) {
  HttpErrorInput in;
  in.backend = "b";
  in.retry_after = absl::Seconds(7);
  for (int code : {429, 502, 503}) {
    in.http_status = code;
    EXPECT_EQ(GetRetryDelay(MapHttpError(in)), absl::Seconds(7)) << code;
  }
  in.http_status = 500;
  EXPECT_FALSE(GetRetryDelay(MapHttpError(in)).has_value());
  in.http_status = 429;
  in.retry_after.reset();
  EXPECT_FALSE(GetRetryDelay(MapHttpError(in)).has_value());
}

TEST(HttpStatusMappingTest, LongBackendMessagesAreShortened) {
  HttpErrorInput in;
  in.backend = "b";
  in.http_status = 400;
  in.body.message = std::string(5000, 'x');
  EXPECT_LT(MapHttpError(in).message().size(), 400u);
}

TEST(HttpStatusMappingTest, NoBackendCodeWhenBodyHasNone) {
  HttpErrorInput in;
  in.backend = "b";
  in.http_status = 503;
  auto info = GetErrorInfo(MapHttpError(in));
  EXPECT_EQ(info->metadata.count("backendCode"), 0u);
}

TEST(RetryAfterTest, SecondsAndHttpDate) {
  const absl::Time now = absl::FromUnixSeconds(784111777);
  EXPECT_EQ(ParseRetryAfter("1", now), absl::Seconds(1));
  EXPECT_EQ(ParseRetryAfter(" 120 ", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now),
            absl::Seconds(10));
  // A date in the past means "now".
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:27 GMT", now),
            absl::ZeroDuration());
  EXPECT_FALSE(ParseRetryAfter("-3", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
}

TEST(MalformedResponseTest, IsInternalWithReason) {
  absl::Status s = MalformedResponseError("b", 200, "not JSON");
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetErrorInfo(s)->reason, "BACKEND_MALFORMED_RESPONSE");
  EXPECT_EQ(GetErrorInfo(s)->metadata.at("httpStatus"), "200");
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

// Fuzzing finding: a backend's Retry-After reaches callers in RetryInfo, so
// it is capped (and "infinite-future", which absl accepts, is refused).
TEST(RetryAfterTest, FarOffValuesAreCappedAtADay) {
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  EXPECT_EQ(ParseRetryAfter("999999999999", now), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("infinite-future", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  HttpErrorInput in;
  in.backend = "b";
  in.http_status = 503;
  in.retry_after = absl::InfiniteDuration();
  EXPECT_EQ(GetRetryDelay(MapHttpError(in)), absl::Hours(24));
}

}  // namespace
}  // namespace certbridge
