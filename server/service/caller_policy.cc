#include "server/service/caller_policy.h"

#include <grpc/grpc_security_constants.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/errors.h"

namespace certbridge {

CallerPolicy::CallerPolicy(const std::vector<std::string>& allowed) {
  for (const std::string& entry : allowed) {
    if (absl::StartsWith(entry, "dns:")) {
      dns_.insert(entry.substr(4));
    } else {
      uris_.insert(entry);
    }
  }
}

std::string CallerPolicy::Identity(const grpc::AuthContext& auth) {
  for (const char* property :
       {GRPC_PEER_SPIFFE_ID_PROPERTY_NAME, GRPC_PEER_URI_PROPERTY_NAME}) {
    for (const auto& value : auth.FindPropertyValues(property)) {
      return std::string(value.data(), value.size());
    }
  }
  for (const auto& value :
       auth.FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME)) {
    return absl::StrCat("dns:", absl::string_view(value.data(), value.size()));
  }
  return "";
}

absl::Status CallerPolicy::Check(const grpc::AuthContext& auth) const {
  if (!restricted()) return absl::OkStatus();
  std::vector<std::string> seen;
  for (const char* property :
       {GRPC_PEER_URI_PROPERTY_NAME, GRPC_PEER_SPIFFE_ID_PROPERTY_NAME}) {
    for (const auto& value : auth.FindPropertyValues(property)) {
      const std::string uri(value.data(), value.size());
      if (uris_.count(uri) != 0) return absl::OkStatus();
      seen.push_back(uri);
    }
  }
  for (const auto& value :
       auth.FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME)) {
    const std::string dns(value.data(), value.size());
    if (dns_.count(dns) != 0) return absl::OkStatus();
    seen.push_back(absl::StrCat("dns:", dns));
  }
  return MakeError(absl::StatusCode::kPermissionDenied,
                   seen.empty()
                       ? std::string("the caller presented no identity on the "
                                     "allow-list (no client certificate SANs)")
                       : absl::StrCat("caller ", absl::StrJoin(seen, ", "),
                                      " is not allowed to call this service"),
                   "CALLER_NOT_ALLOWED");
}

}  // namespace certbridge

namespace certbridge {

grpc::Status CallerPolicyProcessor::Process(const InputMetadata& auth_metadata,
                                            grpc::AuthContext* context,
                                            OutputMetadata*, OutputMetadata*) {
  // The certificate service checks its own calls, so that a refusal carries
  // the ErrorInfo its callers rely on; everything else is checked here.
  auto path = auth_metadata.find(":path");
  if (path != auth_metadata.end() &&
      absl::StartsWith(
          absl::string_view(path->second.data(), path->second.size()),
          "/certbridge.v1.CertificateService/")) {
    return grpc::Status::OK;
  }
  if (context == nullptr) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "no caller identity");
  }
  const absl::Status allowed = policy_.Check(*context);
  if (allowed.ok()) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      std::string(allowed.message()));
}

}  // namespace certbridge
