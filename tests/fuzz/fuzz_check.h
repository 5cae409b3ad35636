// Shared by the fuzz targets. FUZZ_CHECK survives NDEBUG (fuzz builds are
// RelWithDebInfo) and says which property failed before aborting; libFuzzer
// then saves the input as a crash artifact.
#ifndef CERTBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_
#define CERTBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"

#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (false)

namespace certbridge::fuzz {

inline absl::string_view AsText(const unsigned char* data, std::size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

/// Every property is asserted. CERTBRIDGE_FUZZ_STRICT=0 relaxes the ones
/// that guard past findings (tests/fuzz/README.md), should a new bug in
/// them need to be parked while fuzzing goes on elsewhere.
inline bool Strict() {
  static const bool strict = [] {
    const char* v = std::getenv("CERTBRIDGE_FUZZ_STRICT");
    return v == nullptr || v[0] != '0';
  }();
  return strict;
}

/// Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code points
/// above U+10FFFF). Proto3 string fields must hold it; parsers in other
/// languages reject messages that do not.
inline bool ValidUtf8(absl::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace certbridge::fuzz

#endif  // CERTBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_
