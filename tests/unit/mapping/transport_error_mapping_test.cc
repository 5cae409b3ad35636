// errors.md "Transport and local failures", one row per transport error kind.
#include "server/mapping/transport_error_mapping.h"

#include <gtest/gtest.h>

#include "server/common/errors.h"

namespace certbridge {
namespace {

struct Row {
  TransportErrorKind kind;
  bool deadline_passed;
  absl::StatusCode code;
  const char* reason;
};

class TransportMappingTest : public ::testing::TestWithParam<Row> {};

TEST_P(TransportMappingTest, Maps) {
  const Row& row = GetParam();
  TransportError e{row.kind, true, "detail"};
  absl::Status s = MapTransportError(e, "lee", row.deadline_passed);
  EXPECT_EQ(s.code(), row.code) << TransportErrorKindName(row.kind);
  EXPECT_EQ(GetErrorInfo(s)->reason, row.reason);
  EXPECT_EQ(GetErrorInfo(s)->metadata.at("backend"), "lee");
}

using K = TransportErrorKind;
using C = absl::StatusCode;
INSTANTIATE_TEST_SUITE_P(
    ErrorsMd, TransportMappingTest,
    ::testing::Values(
        Row{K::kDnsFailure, false, C::kUnavailable, "BACKEND_UNREACHABLE"},
        Row{K::kConnectFailed, false, C::kUnavailable, "BACKEND_UNREACHABLE"},
        Row{K::kConnectTimeout, false, C::kUnavailable, "BACKEND_UNREACHABLE"},
        Row{K::kTlsVerification, false, C::kInternal, "BACKEND_TLS_ERROR"},
        // errors.md: a handshake broken off before any request byte is
        // the backend being unreachable (issue 10 finding 9).
        Row{K::kTlsHandshake, false, C::kUnavailable, "BACKEND_UNREACHABLE"},
        Row{K::kConnectionReset, false, C::kUnavailable,
            "BACKEND_CONNECTION_RESET"},
        Row{K::kTimeout, false, C::kUnavailable, "BACKEND_TIMEOUT"},
        Row{K::kTimeout, true, C::kDeadlineExceeded, "DEADLINE_EXCEEDED"},
        Row{K::kConnectTimeout, true, C::kDeadlineExceeded,
            "DEADLINE_EXCEEDED"},
        Row{K::kCancelled, false, C::kCancelled, "CANCELLED"},
        Row{K::kCancelled, true, C::kDeadlineExceeded, "DEADLINE_EXCEEDED"},
        Row{K::kResponseTooLarge, false, C::kInternal,
            "BACKEND_MALFORMED_RESPONSE"},
        Row{K::kOther, false, C::kInternal, "BACKEND_ERROR"}));

}  // namespace
}  // namespace certbridge
