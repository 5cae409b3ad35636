#include "client/resource_shape.h"

#include <vector>

#include "absl/strings/str_split.h"

namespace certbridge::cli {
namespace {

bool IsPlaceholder(absl::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

bool MatchesShape(absl::string_view pattern, absl::string_view text) {
  const std::vector<absl::string_view> want = absl::StrSplit(pattern, '/');
  const std::vector<absl::string_view> got = absl::StrSplit(text, '/');
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[i].empty()) return false;
    if (!IsPlaceholder(want[i]) && want[i] != got[i]) return false;
  }
  return true;
}

bool ShapesOverlap(absl::string_view a, absl::string_view b) {
  const std::vector<absl::string_view> left = absl::StrSplit(a, '/');
  const std::vector<absl::string_view> right = absl::StrSplit(b, '/');
  if (left.size() != right.size()) return false;
  for (size_t i = 0; i < left.size(); ++i) {
    // Only two different literals keep every text from matching both.
    if (!IsPlaceholder(left[i]) && !IsPlaceholder(right[i]) &&
        left[i] != right[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace certbridge::cli
