#include "server/backends/apinizer/apinizer_json.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/backends/etag.h"
#include "server/common/errors.h"
#include "server/common/resource_name.h"
#include "server/common/time_format.h"

namespace certbridge {
namespace {

using nlohmann::json;

json Parse(absl::string_view body) {
  return json::parse(body.begin(), body.end(), nullptr,
                     /*allow_exceptions=*/false);
}

absl::Status StringField(const json& obj, const char* key, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", key, "\" is not a string"));
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status BoolField(const json& obj, const char* key,
                       std::optional<bool>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_boolean()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", key, "\" is not a boolean"));
  }
  *out = it->get<bool>();
  return absl::OkStatus();
}

bool IsFailureEnvelope(const json& doc) {
  auto status = doc.find("status");
  if (status != doc.end() && status->is_string() &&
      absl::AsciiStrToUpper(status->get<std::string>()) == "FAILURE") {
    return true;
  }
  auto success = doc.find("success");
  return success != doc.end() && success->is_boolean() &&
         !success->get<bool>() && !doc.contains("deploymentResult");
}

absl::Status ParseDeployment(const json& entry,
                             v1::EnvironmentDeployment* out) {
  if (!entry.is_object()) {
    return absl::InvalidArgumentError(
        "certificateEnvironmentList entry is not an object");
  }
  std::string environment, start, end, thumbprint, subject, alias;
  for (auto [key, field] :
       {std::pair<const char*, std::string*>{"environmentName", &environment},
        {"startDate", &start},
        {"endDate", &end},
        {"sha1Thumbprint", &thumbprint},
        {"subjectDn", &subject},
        {"alias", &alias}}) {
    if (auto s = StringField(entry, key, field); !s.ok()) return s;
  }
  out->set_environment(environment);
  out->set_start_date(start);
  out->set_end_date(end);
  google::protobuf::Timestamp ts;
  if (auto t = ParseBackendTime(start); t && ToTimestamp(*t, &ts)) {
    *out->mutable_start_time() = ts;
  }
  if (auto t = ParseBackendTime(end); t && ToTimestamp(*t, &ts)) {
    *out->mutable_end_time() = ts;
  }
  // Examples show both cases (§4); one form lets callers compare.
  out->set_sha1_thumbprint(absl::AsciiStrToUpper(thumbprint));
  out->set_subject_dn(subject);
  out->set_alias(alias);
  // base64EncodedContent is the certificate itself: certbridge does not
  // return certificate bytes.
  return absl::OkStatus();
}

absl::StatusOr<v1::Certificate> ConvertCertificate(const json& item,
                                                   absl::string_view backend,
                                                   absl::string_view project,
                                                   std::string* base64_content);

}  // namespace

ApinizerBody ParseApinizerBody(absl::string_view body) {
  return ApinizerBody{body.empty(), Parse(body)};
}

absl::StatusOr<v1::Certificate> ParseApinizerCertificate(
    absl::string_view body, absl::string_view backend,
    absl::string_view project, std::string* base64_content) {
  return ParseApinizerCertificate(ParseApinizerBody(body), backend, project,
                                  base64_content);
}

absl::StatusOr<v1::Certificate> ParseApinizerCertificate(
    const ApinizerBody& body, absl::string_view backend,
    absl::string_view project, std::string* base64_content) {
  const json& doc = body.doc;
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("body is not a JSON object");
  }
  if (IsFailureEnvelope(doc)) {
    return absl::InvalidArgumentError("body reports failure");
  }
  auto list = doc.find("resultList");
  if (list == doc.end() || !list->is_array()) {
    return absl::InvalidArgumentError("no \"resultList\" array");
  }
  if (list->size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"resultList\" has ", list->size(), " entries, expected 1"));
  }
  const json& item = (*list)[0];
  if (!item.is_object()) {
    return absl::InvalidArgumentError("resultList[0] is not an object");
  }
  return ConvertCertificate(item, backend, project, base64_content);
}

absl::StatusOr<std::vector<v1::Certificate>> ParseApinizerCertificateList(
    const ApinizerBody& body, absl::string_view backend,
    absl::string_view project, std::size_t max_items) {
  const json& doc = body.doc;
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("body is not a JSON object");
  }
  if (IsFailureEnvelope(doc)) {
    return absl::InvalidArgumentError("body reports failure");
  }
  // Both generations: {status:"SUCCESS", resultList, resultCount} and
  // {success:true, resultList} (§4, §7.2). resultCount is not trusted:
  // the list is what counts.
  auto list = doc.find("resultList");
  if (list == doc.end() || !list->is_array()) {
    return absl::InvalidArgumentError("no \"resultList\" array");
  }
  if (list->size() > max_items) {
    return absl::OutOfRangeError("too many certificates");
  }
  std::vector<v1::Certificate> out;
  out.reserve(list->size());
  for (const json& item : *list) {
    if (!item.is_object()) {
      return absl::InvalidArgumentError("a resultList entry is not an object");
    }
    auto cert = ConvertCertificate(item, backend, project, nullptr);
    if (!cert.ok()) return cert.status();
    out.push_back(*std::move(cert));
  }
  return out;
}

namespace {

absl::StatusOr<v1::Certificate> ConvertCertificate(
    const json& item, absl::string_view backend, absl::string_view project,
    std::string* base64_content) {
  std::string name, description;
  if (auto s = StringField(item, "name", &name); !s.ok()) return s;
  if (name.empty())
    return absl::InvalidArgumentError("certificate has no name");
  if (auto s = StringField(item, "description", &description); !s.ok()) {
    return s;
  }
  v1::Certificate cert;
  cert.set_name(FormatCertificateName(
      {std::string(backend), true, std::string(project), name}));
  cert.set_display_name(name);
  v1::ApinizerCertificate* a = cert.mutable_apinizer();
  a->set_description(description);
  // Content is not part of the resource, but a new upload must change the
  // etag even where the vendor reports no thumbprint.
  std::string all_content;
  auto envs = item.find("certificateEnvironmentList");
  if (envs != item.end() && !envs->is_null()) {
    if (!envs->is_array()) {
      return absl::InvalidArgumentError(
          "\"certificateEnvironmentList\" is not an array");
    }
    std::set<std::string> seen;
    for (const json& entry : *envs) {
      v1::EnvironmentDeployment* d = a->add_deployments();
      if (auto s = ParseDeployment(entry, d); !s.ok()) return s;
      // Re-uploads can list an environment twice (§7.7); report it once.
      if (seen.insert(d->environment()).second) {
        a->add_environments(d->environment());
      }
      if (a->alias().empty()) a->set_alias(d->alias());
      std::string content;
      if (auto s = StringField(entry, "base64EncodedContent", &content);
          !s.ok()) {
        return s;
      }
      if (base64_content != nullptr && base64_content->empty()) {
        *base64_content = content;
      }
      absl::StrAppend(&all_content, content.size(), ":", content);
    }
  }
  SetEtag(cert, all_content);
  return cert;
}

}  // namespace

absl::StatusOr<v1::DeploymentResult> ParseApinizerDeployment(
    absl::string_view body) {
  return ParseApinizerDeployment(ParseApinizerBody(body));
}

absl::StatusOr<v1::DeploymentResult> ParseApinizerDeployment(
    const ApinizerBody& body) {
  const json& doc = body.doc;
  v1::DeploymentResult result;
  if (body.empty) {
    result.set_state(v1::DeploymentResult::NOT_APPLICABLE);
    return result;
  }
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("body is not a JSON object");
  }
  auto dep = doc.find("deploymentResult");
  if (dep == doc.end() || dep->is_null()) {
    result.set_state(v1::DeploymentResult::NOT_APPLICABLE);
    return result;
  }
  if (!dep->is_object()) {
    return absl::InvalidArgumentError("\"deploymentResult\" is not an object");
  }
  std::optional<bool> overall;
  std::string message;
  if (auto s = BoolField(*dep, "success", &overall); !s.ok()) return s;
  if (auto s = StringField(*dep, "message", &message); !s.ok()) return s;
  result.set_message(message);
  int ok = 0, failed = 0;
  auto envs = dep->find("environmentResults");
  if (envs != dep->end() && !envs->is_null()) {
    if (!envs->is_array()) {
      return absl::InvalidArgumentError(
          "\"environmentResults\" is not an array");
    }
    for (const json& entry : *envs) {
      if (!entry.is_object()) {
        return absl::InvalidArgumentError(
            "environmentResults entry is not an object");
      }
      std::string environment, env_message;
      std::optional<bool> success;
      if (auto s = StringField(entry, "environmentName", &environment);
          !s.ok()) {
        return s;
      }
      if (auto s = StringField(entry, "message", &env_message); !s.ok()) {
        return s;
      }
      if (auto s = BoolField(entry, "success", &success); !s.ok()) return s;
      // An entry that does not say it succeeded is not counted as success.
      const bool env_ok = success.value_or(false);
      v1::EnvironmentResult* r = result.add_environment_results();
      r->set_environment(environment);
      r->set_success(env_ok);
      r->set_message(env_message);
      (env_ok ? ok : failed)++;
    }
  }
  if (failed > 0) {
    result.set_state(ok > 0 ? v1::DeploymentResult::PARTIALLY_FAILED
                            : v1::DeploymentResult::FAILED);
  } else if (overall.has_value() && !*overall) {
    result.set_state(v1::DeploymentResult::FAILED);
  } else if (ok == 0) {
    result.set_state(v1::DeploymentResult::NOT_APPLICABLE);
  } else {
    result.set_state(v1::DeploymentResult::SUCCEEDED);
  }
  return result;
}

// Apinizer answers most errors with 400 and tells them apart only in the
// message text (apinizer.md §7.4).
ErrorClass ClassifyApinizerBadRequest(absl::string_view message) {
  const std::string m = absl::AsciiStrToLower(message);
  // "Environment (X) is not found ..." names a bad input value (an unknown
  // deployment target), not a missing certificate or project.
  if (absl::StartsWith(m, "environment")) {
    return {absl::StatusCode::kInvalidArgument,
            reason::kBackendRejectedRequest};
  }
  if (absl::StrContains(m, "is not found") ||
      absl::StrContains(m, "was not found")) {
    return {absl::StatusCode::kNotFound, reason::kCertificateNotFound};
  }
  if (absl::StrContains(m, "already used")) {
    return {absl::StatusCode::kAlreadyExists, reason::kAliasAlreadyInUse};
  }
  if (absl::StrContains(m, "already exist")) {
    return {absl::StatusCode::kAlreadyExists,
            reason::kCertificateAlreadyExists};
  }
  if (absl::StrContains(m, "does not have required permission")) {
    return {absl::StatusCode::kPermissionDenied,
            reason::kBackendPermissionDenied};
  }
  return {absl::StatusCode::kInvalidArgument, reason::kBackendRejectedRequest};
}

BackendErrorBody ParseApinizerError(absl::string_view body) {
  return ParseApinizerError(ParseApinizerBody(body));
}

BackendErrorBody ParseApinizerError(const ApinizerBody& body) {
  BackendErrorBody out;
  const json& doc = body.doc;
  if (!doc.is_object()) return out;
  std::string result_message, description, error, status;
  (void)StringField(doc, "resultMessage", &result_message);
  (void)StringField(doc, "error_description", &description);
  (void)StringField(doc, "error", &error);
  (void)StringField(doc, "status", &status);
  out.message = !result_message.empty() ? result_message : description;
  out.code = !error.empty() ? error : status;
  out.bad_request_class = ClassifyApinizerBadRequest(out.message);
  return out;
}

std::optional<BackendErrorBody> ApinizerFailureIn200(absl::string_view body) {
  return ApinizerFailureIn200(ParseApinizerBody(body));
}

std::optional<BackendErrorBody> ApinizerFailureIn200(const ApinizerBody& body) {
  const json& doc = body.doc;
  if (!doc.is_object() || !IsFailureEnvelope(doc)) return std::nullopt;
  BackendErrorBody error = ParseApinizerError(body);
  if (error.code.empty()) error.code = "FAILURE";
  return error;
}

}  // namespace certbridge
