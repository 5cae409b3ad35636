// What a replica reads back is what the first one answered, to the byte of
// every error detail; bytes that are not an outcome are an error, never a
// crash or a made-up answer.
#include "server/idempotency/outcome_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "google/rpc/status.pb.h"
#include "server/common/errors.h"

namespace certbridge {
namespace {

TEST(OutcomeCodecTest, ACertificateRoundTrips) {
  v1::Certificate c;
  c.set_name("backends/lee/certificates/1");
  c.mutable_leegality()->set_id("46d4e120");
  auto decoded = DecodeOutcome(EncodeOutcome(c));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_TRUE(decoded->ok());
  EXPECT_EQ((*decoded)->SerializeAsString(), c.SerializeAsString());
}

TEST(OutcomeCodecTest, AnErrorRoundTripsWithEveryDetail) {
  absl::Status error = MakeValidationError(reason::kInvalidPkcs12,
                                           "certificate.pkcs12_file", "bad");
  SetRetryDelay(error, absl::Seconds(3));
  SetErrorMetadata(error, metadata::kBackend, "lee");
  auto decoded = DecodeOutcome(EncodeOutcome(error));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_FALSE(decoded->ok());
  EXPECT_EQ(decoded->status(), error);
  EXPECT_EQ(GetErrorInfo(decoded->status())->reason, reason::kInvalidPkcs12);
}

TEST(OutcomeCodecTest, BytesThatAreNoOutcomeAreAnError) {
  absl::Status some_error = absl::NotFoundError("gone");
  const std::string error_bytes = EncodeOutcome(some_error);
  v1::Certificate c;
  c.set_name(std::string(100, 'n'));
  const std::string cert_bytes = EncodeOutcome(c);
  google::rpc::Status ok_status;  // code 0: not an error outcome
  const std::string ok_as_error = "E" + ok_status.SerializeAsString();
  for (const std::string& bad :
       {std::string(), std::string("X"), std::string("Cgarbage\xff\xff"),
        cert_bytes.substr(0, cert_bytes.size() / 2),
        error_bytes.substr(0, error_bytes.size() - 1) + "\x80", ok_as_error,
        std::string("E\x08\x63")}) {  // code 99
    auto decoded = DecodeOutcome(bad);
    EXPECT_FALSE(decoded.ok()) << "accepted " << absl::CEscape(bad);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInternal);
    }
  }
}

}  // namespace
}  // namespace certbridge
