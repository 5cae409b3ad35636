// Properties of the protobuf values the JSON parsers hand to callers.
#ifndef CERTBRIDGE_TESTS_FUZZ_PROTO_CHECKS_H_
#define CERTBRIDGE_TESTS_FUZZ_PROTO_CHECKS_H_

#include <string>

#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "tests/fuzz/fuzz_check.h"

namespace certbridge::fuzz {

/// google.protobuf.Timestamp's documented range: 0001-01-01T00:00:00Z ..
/// 9999-12-31T23:59:59.999999999Z, nanos in [0, 1e9). Clients reject or
/// mis-render anything else (JSON transcoding fails outright).
inline bool ValidTimestamp(const google::protobuf::Timestamp& t) {
  using google::protobuf::util::TimeUtil;
  return t.seconds() >= TimeUtil::kTimestampMinSeconds &&
         t.seconds() <= TimeUtil::kTimestampMaxSeconds && t.nanos() >= 0 &&
         t.nanos() < 1000000000;
}

/// The message survives the wire: it serializes, parses back and serializes
/// to the same bytes.
template <typename Message>
void CheckWireRoundTrip(const Message& message) {
  std::string wire;
  FUZZ_CHECK(message.SerializeToString(&wire));
  Message back;
  FUZZ_CHECK(back.ParseFromString(wire));
  FUZZ_CHECK(back.SerializeAsString() == wire);
}

}  // namespace certbridge::fuzz

#endif  // CERTBRIDGE_TESTS_FUZZ_PROTO_CHECKS_H_
