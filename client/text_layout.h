// Text certctl assembles from parts (the vendors' names, flags and shapes)
// for its messages and help: lists of alternatives and wrapped paragraphs.
#ifndef CERTBRIDGE_CLIENT_TEXT_LAYOUT_H_
#define CERTBRIDGE_CLIENT_TEXT_LAYOUT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace certbridge::cli {

/// "a", "a or b", "a, b or c".
std::string JoinAlternatives(const std::vector<std::string>& items);

/// `text` filled into lines of at most `width` columns (a longer word gets a
/// line of its own), each ending in "\n": the first line starts with
/// `first_prefix`, the others with as many spaces.
std::string WrapParagraph(absl::string_view first_prefix,
                          absl::string_view text, std::size_t width);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_TEXT_LAYOUT_H_
