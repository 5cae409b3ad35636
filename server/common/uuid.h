// Random (version 4) UUIDs: the request ids certbridge and certctl make up
// when a caller gives none.
#ifndef CERTBRIDGE_SERVER_COMMON_UUID_H_
#define CERTBRIDGE_SERVER_COMMON_UUID_H_

#include <string>

#include "absl/random/random.h"

namespace certbridge {

/// "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx" from `gen`.
std::string NewUuidV4(absl::BitGen& gen);
/// The same from a generator of the calling thread.
std::string NewUuidV4();

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_UUID_H_
