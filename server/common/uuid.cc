#include "server/common/uuid.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace certbridge {

std::string NewUuidV4(absl::BitGen& gen) {
  const uint64_t a = absl::Uniform<uint64_t>(gen);
  const uint64_t b = absl::Uniform<uint64_t>(gen);
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", a >> 32,
                         (a >> 16) & 0xffff, a & 0xfff,
                         ((b >> 48) & 0x3fff) | 0x8000, b & 0xffffffffffff);
}

std::string NewUuidV4() {
  thread_local absl::BitGen gen;
  return NewUuidV4(gen);
}

}  // namespace certbridge
