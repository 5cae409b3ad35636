#include "server/backends/leegality/leegality_json.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/backends/etag.h"
#include "server/common/resource_name.h"
#include "server/common/time_format.h"

namespace certbridge {
namespace {

using nlohmann::json;

json Parse(absl::string_view body) {
  return json::parse(body.begin(), body.end(), nullptr,
                     /*allow_exceptions=*/false);
}

// Optional string fields: null or absent mean "not reported".
absl::Status OptionalString(const json& obj, const char* key,
                            std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", key, "\" is not a string"));
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

// Times are documented only as "string"; Java services also commonly emit
// epoch milliseconds, so numbers are accepted and rendered as RFC 3339.
absl::Status TimeField(const json& obj, const char* key, std::string* raw,
                       google::protobuf::Timestamp* ts, bool* has_ts) {
  *has_ts = false;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  std::optional<absl::Time> parsed;
  if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    parsed = v > 100'000'000'000 ? absl::FromUnixMillis(v)
                                 : absl::FromUnixSeconds(v);
    *raw = it->dump();
  } else if (it->is_string()) {
    *raw = it->get<std::string>();
    parsed = ParseBackendTime(*raw);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", key, "\" is neither a string nor a number"));
  }
  if (parsed && ToTimestamp(*parsed, ts)) *has_ts = true;
  return absl::OkStatus();
}

v1::LeegalityCertificate::CertificateType ParseType(absl::string_view text) {
  if (text == "PKCS12_PFX") return v1::LeegalityCertificate::PKCS12_PFX;
  if (text == "PKCS12_HSM") return v1::LeegalityCertificate::PKCS12_HSM;
  if (text == "PKCS11") return v1::LeegalityCertificate::PKCS11;
  // New vendor types must not break reads.
  return v1::LeegalityCertificate::CERTIFICATE_TYPE_UNSPECIFIED;
}

// Finds the CertificateVO in any documented envelope.
const json* FindVo(const json& doc) {
  if (!doc.is_object()) return nullptr;
  auto data = doc.find("data");
  if (data != doc.end() && data->is_object() && data->contains("id")) {
    return &*data;
  }
  if (doc.contains("id")) return &doc;
  return nullptr;
}

absl::StatusOr<v1::Certificate> ConvertVo(const json* vo,
                                          absl::string_view backend) {
  v1::Certificate cert;
  v1::LeegalityCertificate* out = cert.mutable_leegality();
  std::string id;
  if (auto s = OptionalString(*vo, "id", &id); !s.ok()) return s;
  if (id.empty()) return absl::InvalidArgumentError("certificate has no id");
  out->set_id(id);
  cert.set_name(FormatCertificateName({std::string(backend), false, "", id}));

  std::string text;
  if (auto s = OptionalString(*vo, "name", &text); !s.ok()) return s;
  cert.set_display_name(text);
  text.clear();
  if (auto s = OptionalString(*vo, "certificateType", &text); !s.ok()) return s;
  out->set_certificate_type(ParseType(text));
  bool has_ts = false;
  std::string raw;
  if (auto s =
          TimeField(*vo, "expiry", &raw, out->mutable_expire_time(), &has_ts);
      !s.ok()) {
    return s;
  }
  out->set_expiry(raw);
  if (!has_ts) out->clear_expire_time();
  raw.clear();
  if (auto s = TimeField(*vo, "createdAt", &raw, out->mutable_create_time(),
                         &has_ts);
      !s.ok()) {
    return s;
  }
  out->set_created_at(raw);
  if (!has_ts) out->clear_create_time();
  text.clear();
  if (auto s = OptionalString(*vo, "departmentId", &text); !s.ok()) return s;
  out->set_department_id(text);
  text.clear();
  if (auto s = OptionalString(*vo, "departmentName", &text); !s.ok()) return s;
  out->set_department_name(text);
  if (auto it = vo->find("enabled"); it != vo->end() && !it->is_null()) {
    if (!it->is_boolean()) {
      return absl::InvalidArgumentError("\"enabled\" is not a boolean");
    }
    out->set_enabled(it->get<bool>());
  }
  SetEtag(cert);
  return cert;
}

}  // namespace

absl::StatusOr<v1::Certificate> ParseLeegalityCertificate(
    absl::string_view body, absl::string_view backend) {
  const json doc = Parse(body);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not JSON");
  const json* vo = FindVo(doc);
  if (vo == nullptr) {
    return absl::InvalidArgumentError("no certificate object in the body");
  }
  return ConvertVo(vo, backend);
}

absl::StatusOr<std::vector<v1::Certificate>> ParseLeegalityCertificateList(
    absl::string_view body, absl::string_view backend, std::size_t max_items) {
  const json doc = Parse(body);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not JSON");
  // Documented: {"data": [CertificateVO...]}; the envelope is parsed as
  // tolerantly as the others (quirk 6): {code, message, data} or a bare
  // array are accepted too.
  const json* list = nullptr;
  if (doc.is_array()) {
    list = &doc;
  } else if (doc.is_object()) {
    auto data = doc.find("data");
    if (data != doc.end() && data->is_array()) list = &*data;
  }
  if (list == nullptr) {
    return absl::InvalidArgumentError("no \"data\" array in the body");
  }
  if (list->size() > max_items) {
    return absl::OutOfRangeError(absl::StrCat(list->size()));
  }
  std::vector<v1::Certificate> out;
  out.reserve(list->size());
  for (const json& item : *list) {
    if (!item.is_object()) {
      return absl::InvalidArgumentError("a \"data\" entry is not an object");
    }
    auto cert = ConvertVo(&item, backend);
    if (!cert.ok()) return cert.status();
    out.push_back(*std::move(cert));
  }
  return out;
}

absl::Status ParseLeegalityDeleteAck(absl::string_view body) {
  if (absl::StripAsciiWhitespace(body).empty()) return absl::OkStatus();
  const json doc = Parse(body);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not JSON");
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return absl::OkStatus();
}

BackendErrorBody ParseLeegalityError(absl::string_view body) {
  BackendErrorBody out;
  const json doc = Parse(body);
  if (!doc.is_object()) return out;
  if (auto it = doc.find("code"); it != doc.end() && it->is_string()) {
    out.code = it->get<std::string>();
  }
  auto errors = doc.find("errors");
  if (errors != doc.end() && errors->is_array() && !errors->empty() &&
      (*errors)[0].is_object()) {
    const json& first = (*errors)[0];
    if (auto it = first.find("message"); it != first.end() && it->is_string()) {
      out.message = it->get<std::string>();
    }
    if (auto it = first.find("code"); it != first.end() && it->is_string()) {
      out.inner_code = it->get<std::string>();
    }
  }
  if (out.message.empty()) {
    if (auto it = doc.find("message"); it != doc.end() && it->is_string()) {
      out.message = it->get<std::string>();
    }
  }
  return out;
}

}  // namespace certbridge
