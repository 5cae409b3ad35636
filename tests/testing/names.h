// Parsed resource names for tests that call stubs and connections directly
// (the service parses them in production). The returned references stay
// valid for the rest of the test program, as the callee may keep them until
// the call completes.
#ifndef CERTBRIDGE_TESTS_TESTING_NAMES_H_
#define CERTBRIDGE_TESTS_TESTING_NAMES_H_

#include <gtest/gtest.h>

#include <deque>

#include "absl/strings/string_view.h"
#include "server/common/resource_name.h"

namespace certbridge::testing {

inline const CertificateName& KeptName(absl::string_view text) {
  static auto* kept = new std::deque<CertificateName>();
  auto parsed = ParseCertificateName(text, "name");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  kept->push_back(parsed.ok() ? *parsed : CertificateName{});
  return kept->back();
}

inline const ParentName& KeptParent(absl::string_view text) {
  static auto* kept = new std::deque<ParentName>();
  auto parsed = ParseParentName(text, "parent");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  kept->push_back(parsed.ok() ? *parsed : ParentName{});
  return kept->back();
}

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_TESTING_NAMES_H_
