// FieldMask helpers shared by validation and the vendor stubs, so both agree
// on what a mask covers ("*" covers everything).
#ifndef CERTBRIDGE_SERVER_BACKENDS_UPDATE_MASK_H_
#define CERTBRIDGE_SERVER_BACKENDS_UPDATE_MASK_H_

#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"

namespace certbridge {

inline bool MaskCovers(const google::protobuf::FieldMask& mask,
                       absl::string_view path) {
  for (const auto& p : mask.paths()) {
    if (p == "*" || p == path) return true;
  }
  return false;
}

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_UPDATE_MASK_H_
