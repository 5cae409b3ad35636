// Resource-name shapes such as "backends/{backend}/certificates/{id}": a
// vendor declares the shapes of its names and parents, and certctl tells
// vendors apart by them alone (no call to the server).
#ifndef CERTBRIDGE_CLIENT_RESOURCE_SHAPE_H_
#define CERTBRIDGE_CLIENT_RESOURCE_SHAPE_H_

#include "absl/strings/string_view.h"

namespace certbridge::cli {

/// Whether `text` has the shape `pattern`: as many '/'-separated segments,
/// none empty, each equal to the pattern's or matched by a "{...}"
/// placeholder there.
bool MatchesShape(absl::string_view pattern, absl::string_view text);

/// Whether some text has both shapes.
bool ShapesOverlap(absl::string_view a, absl::string_view b);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_RESOURCE_SHAPE_H_
