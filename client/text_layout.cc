#include "client/text_layout.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace certbridge::cli {

std::string JoinAlternatives(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

std::string WrapParagraph(absl::string_view first_prefix,
                          absl::string_view text, std::size_t width) {
  const std::string indent(first_prefix.size(), ' ');
  std::string out(first_prefix);
  std::size_t line_length = first_prefix.size();
  bool line_empty = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line_empty && line_length + 1 + word.size() > width) {
      absl::StrAppend(&out, "\n", indent);
      line_length = indent.size();
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++line_length;
    }
    absl::StrAppend(&out, word);
    line_length += word.size();
    line_empty = false;
  }
  out += '\n';
  return out;
}

}  // namespace certbridge::cli
