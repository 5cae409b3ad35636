#include "client/formats.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace certbridge::cli {
namespace {

using Json = nlohmann::ordered_json;

absl::StatusOr<Json> Parse(absl::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InternalError("output is not JSON");
  return doc;
}

std::string Scalar(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void Yaml(const Json& value, int indent, std::string* out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      absl::StrAppend(out, pad, Scalar(Json(key)), ":");
      if ((child.is_object() || child.is_array()) && !child.empty()) {
        out->push_back('\n');
        Yaml(child, indent + 2, out);
      } else {
        absl::StrAppend(out, " ",
                        child.is_object()  ? "{}"
                        : child.is_array() ? "[]"
                                           : Scalar(child),
                        "\n");
      }
    }
  } else if (value.is_array()) {
    for (const auto& child : value) {
      if (child.is_object() && !child.empty()) {
        // "- " then the object's first key on the same line.
        std::string nested;
        Yaml(child, indent + 2, &nested);
        absl::StrAppend(out, pad, "- ", nested.substr(pad.size() + 2));
      } else if (child.is_array() && !child.empty()) {
        absl::StrAppend(out, pad, "-\n");
        Yaml(child, indent + 2, out);
      } else {
        absl::StrAppend(out, pad, "- ", Scalar(child), "\n");
      }
    }
  } else {
    absl::StrAppend(out, pad, Scalar(value), "\n");
  }
}

void Rows(const Json& value, const std::string& path,
          std::vector<std::pair<std::string, std::string>>* rows) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      Rows(child, path.empty() ? key : absl::StrCat(path, ".", key), rows);
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      Rows(value[i], absl::StrCat(path, "[", i, "]"), rows);
    }
  } else {
    rows->emplace_back(
        path, value.is_string() ? value.get<std::string>() : Scalar(value));
  }
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  if (text == "table") return OutputFormat::kTable;
  if (text == "name") return OutputFormat::kName;
  return absl::InvalidArgumentError(
      "--output must be json, yaml, table or name");
}

absl::StatusOr<std::string> JsonToName(absl::string_view json) {
  auto doc = Parse(json);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object() || !doc->contains("name") ||
      !(*doc)["name"].is_string()) {
    return absl::InvalidArgumentError("the response carries no name");
  }
  return (*doc)["name"].get<std::string>() + "\n";
}

absl::StatusOr<std::string> JsonToYaml(absl::string_view json) {
  auto doc = Parse(json);
  if (!doc.ok()) return doc.status();
  std::string out;
  Yaml(*doc, 0, &out);
  return out;
}

absl::StatusOr<std::string> JsonToTable(absl::string_view json) {
  auto doc = Parse(json);
  if (!doc.ok()) return doc.status();
  std::vector<std::pair<std::string, std::string>> rows;
  Rows(*doc, "", &rows);
  size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  std::string out;
  for (const auto& [k, v] : rows) {
    absl::StrAppend(&out, k, std::string(width - k.size() + 2, ' '), v, "\n");
  }
  return out;
}

}  // namespace certbridge::cli
