// The JSON certctl prints, re-rendered as YAML (for config-as-code) or as
// an aligned two-column table of field paths and values (for people).
// Pure functions of the JSON text.
#ifndef CERTBRIDGE_CLIENT_FORMATS_H_
#define CERTBRIDGE_CLIENT_FORMATS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certbridge::cli {

enum class OutputFormat { kJson, kYaml, kTable, kName };

/// "json", "yaml", "table" or "name".
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

/// Block-style YAML; strings double-quoted (JSON escapes are valid YAML).
absl::StatusOr<std::string> JsonToYaml(absl::string_view json);

/// One row per leaf: `path  value`, paths like a.list[0].field,
/// values as printed by JSON (strings without quotes).
absl::StatusOr<std::string> JsonToTable(absl::string_view json);

/// The resource's `name` alone (for scripts: NAME=$(certctl create ...)).
absl::StatusOr<std::string> JsonToName(absl::string_view json);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_FORMATS_H_
