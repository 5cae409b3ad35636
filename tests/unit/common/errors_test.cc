#include "server/common/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/common/grpc_status.h"

namespace certbridge {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(ErrorsTest, MakeErrorCarriesReasonDomainAndMetadata) {
  absl::Status s = MakeError(absl::StatusCode::kNotFound, "gone",
                             reason::kCertificateNotFound,
                             {{"backend", "lee"}, {"httpStatus", "404"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "CERTIFICATE_NOT_FOUND");
  EXPECT_EQ(info->domain, "certbridge.v1");
  EXPECT_THAT(info->metadata,
              ElementsAre(Pair("backend", "lee"), Pair("httpStatus", "404")));
}

TEST(ErrorsTest, SetMetadataAddsErrorInfoWhenMissing) {
  absl::Status s = absl::DeadlineExceededError("late");
  SetErrorMetadata(s, metadata::kAttempts, "2");
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "DEADLINE_EXCEEDED");
  EXPECT_EQ(info->metadata.at("attempts"), "2");
}

TEST(ErrorsTest, RetryDelayRoundTrips) {
  absl::Status s = absl::UnavailableError("x");
  SetRetryDelay(s, absl::Milliseconds(1500));
  EXPECT_EQ(GetRetryDelay(s), absl::Milliseconds(1500));
  EXPECT_FALSE(GetRetryDelay(absl::InternalError("y")).has_value());
}

TEST(ErrorsTest, ValidationErrorListsFieldViolation) {
  absl::Status s =
      MakeValidationError(reason::kFileTooLarge, "certificate.x", "too big");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  auto v = GetFieldViolations(s);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "certificate.x");
  EXPECT_EQ(GetErrorInfo(s)->reason, "FILE_TOO_LARGE");
}

google::rpc::Status Details(const grpc::Status& s) {
  google::rpc::Status proto;
  EXPECT_TRUE(proto.ParseFromString(s.error_details()));
  return proto;
}

TEST(GrpcStatusTest, PacksExactlyOneErrorInfoAndRetryInfo) {
  absl::Status s = MakeError(absl::StatusCode::kResourceExhausted, "slow down",
                             reason::kBackendRateLimited, {{"backend", "b"}});
  SetRetryDelay(s, absl::Seconds(3));
  grpc::Status g = ToGrpcStatus(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(g.error_message(), "slow down");
  google::rpc::Status proto = Details(g);
  EXPECT_EQ(proto.code(), 8);
  int error_infos = 0;
  bool retry = false;
  for (const auto& any : proto.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) {
      ++error_infos;
      google::rpc::ErrorInfo info;
      any.UnpackTo(&info);
      EXPECT_EQ(info.reason(), "BACKEND_RATE_LIMITED");
      EXPECT_EQ(info.domain(), "certbridge.v1");
    }
    if (any.Is<google::rpc::RetryInfo>()) {
      google::rpc::RetryInfo info;
      any.UnpackTo(&info);
      EXPECT_EQ(info.retry_delay().seconds(), 3);
      retry = true;
    }
  }
  EXPECT_EQ(error_infos, 1);
  EXPECT_TRUE(retry);
}

TEST(GrpcStatusTest, AddsErrorInfoToBareStatus) {
  grpc::Status g = ToGrpcStatus(absl::CancelledError("gone"));
  google::rpc::Status proto = Details(g);
  ASSERT_EQ(proto.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(proto.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "CANCELLED");
}

TEST(GrpcStatusTest, OkHasNoDetails) {
  grpc::Status g = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(g.ok());
  EXPECT_TRUE(g.error_details().empty());
}

}  // namespace
}  // namespace certbridge
