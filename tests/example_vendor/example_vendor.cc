#include "tests/example_vendor/example_vendor.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/backends/etag.h"
#include "server/backends/request_checks.h"
#include "server/backends/rest_exchange.h"
#include "server/common/quote.h"
#include "server/common/resource_name.h"

namespace certbridge::example {
namespace {

using nlohmann::json;

BackendErrorBody ParseExampleError(absl::string_view body) {
  BackendErrorBody out;
  const json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
    out.message = doc["error"].get<std::string>();
  }
  return out;
}

bool IsExampleId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return false;
    }
  }
  return true;
}

class ExampleStub final : public BackendStub {
 public:
  ExampleStub(BackendConfig config, HttpTransport& transport,
              std::shared_ptr<TokenSource> tokens,
              std::shared_ptr<BackendObserver> observer)
      : config_(
            WithDefaultAuthHeader(std::move(config), AuthHeaderStyle::kBearer)),
        exchange_(config_, transport, std::move(tokens), &ParseExampleError,
                  std::move(observer)) {}

  void CreateCertificate(std::shared_ptr<CallContext> ctx,
                         const ParentName& parent,
                         const v1::CreateCertificateRequest& request,
                         Done<v1::Certificate> done) override {
    HttpRequest http =
        Request("POST", absl::StrCat(config_.base_url, "/v1/certs"));
    http.headers.emplace_back("Content-Type", "application/json");
    http.SetBody(json{{"id", request.certificate_id()}}.dump());
    exchange_.Send(
        ctx, Operation::kCreate, std::move(http),
        Handler(parent.backend, request.certificate_id(), std::move(done)));
  }

  void GetCertificate(std::shared_ptr<CallContext> ctx,
                      const CertificateName& name,
                      const v1::GetCertificateRequest& /*request*/,
                      Done<v1::Certificate> done) override {
    exchange_.Send(ctx, Operation::kGet, Request("GET", Url(name.certificate)),
                   Handler(name.backend, name.certificate, std::move(done)));
  }

  void DeleteCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::DeleteCertificateRequest& /*request*/,
                         Done<v1::DeleteCertificateResponse> done) override {
    exchange_.Send(ctx, Operation::kDelete,
                   Request("DELETE", Url(name.certificate)),
                   [done = std::move(done), name = FormatCertificateName(name)](
                       absl::StatusOr<HttpResponse> r) mutable {
                     if (!r.ok()) {
                       done(r.status());
                       return;
                     }
                     v1::DeleteCertificateResponse response;
                     response.set_name(name);
                     done(std::move(response));
                   });
  }

 private:
  HttpRequest Request(const char* method, std::string url) const {
    HttpRequest http;
    http.method = method;
    http.url = std::move(url);
    const auto label = config_.options.find("label");
    if (label != config_.options.end()) {
      http.headers.emplace_back("X-Example-Label", label->get<std::string>());
    }
    return http;
  }
  std::string Url(const std::string& id) const {
    return absl::StrCat(config_.base_url, "/v1/certs/", EscapeSegment(id));
  }

  // The body must describe the certificate asked for, as every vendor's.
  RestExchange::ResponseHandler Handler(std::string backend, std::string id,
                                        Done<v1::Certificate> done) const {
    return [this, backend = std::move(backend), id = std::move(id),
            done = std::move(done)](absl::StatusOr<HttpResponse> r) mutable {
      if (!r.ok()) {
        done(r.status());
        return;
      }
      const json doc = json::parse(r->body, nullptr, false);
      if (!doc.is_object() || !doc.contains("id") || doc["id"] != id ||
          !doc.contains("version") || !doc["version"].is_number_integer()) {
        done(MalformedResponseError(config_.name, r->status_code,
                                    "not the certificate asked for"));
        return;
      }
      v1::Certificate cert;
      cert.set_name(FormatCertificateName({backend, false, "", id}));
      cert.set_display_name(id);
      SetEtag(cert, std::to_string(doc["version"].get<std::int64_t>()));
      done(std::move(cert));
    };
  }

  const BackendConfig config_;
  RestExchange exchange_;
};

}  // namespace

absl::Status ExampleVendor::CheckCertificateId(absl::string_view id,
                                               absl::string_view field) const {
  if (!IsExampleId(id)) {
    return InvalidName(field, absl::StrCat("example ids are [a-z0-9-]; ",
                                           QuoteInput(id), " is not"));
  }
  return absl::OkStatus();
}

absl::Status ExampleVendor::CheckOptions(const nlohmann::json& options,
                                         absl::string_view path) const {
  for (const auto& [key, value] : options.items()) {
    if (key != "label") {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ".", QuoteInput(key), ": unknown option (known: label)"));
    }
    if (!value.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".label: must be a string"));
    }
  }
  return absl::OkStatus();
}

absl::Status ExampleVendor::ValidateCreate(
    const v1::CreateCertificateRequest& r, absl::Time /*now*/,
    const FileChecks& /*checks*/) const {
  if (r.certificate().backend_certificate_case() !=
      v1::Certificate::BACKEND_CERTIFICATE_NOT_SET) {
    return InvalidField("certificate",
                        "must not carry another vendor's fields for an "
                        "example backend");
  }
  return CheckCertificateId(r.certificate_id(), "certificate_id");
}

absl::Status ExampleVendor::ValidateUpdate(
    const v1::UpdateCertificateRequest& /*r*/, absl::Time /*now*/,
    const FileChecks& /*checks*/) const {
  return absl::OkStatus();
}

absl::Status ExampleVendor::ValidateDelete(
    const v1::DeleteCertificateRequest& r) const {
  if (r.jwk_delete_action() != v1::JWK_DELETE_ACTION_UNSPECIFIED) {
    return InvalidField("jwk_delete_action",
                        "does not apply to an example backend");
  }
  return absl::OkStatus();
}

std::unique_ptr<BackendStub> ExampleVendor::MakeStub(
    const BackendConfig& config, HttpTransport& transport,
    std::shared_ptr<TokenSource> tokens,
    std::shared_ptr<BackendObserver> observer) const {
  return std::make_unique<ExampleStub>(config, transport, std::move(tokens),
                                       std::move(observer));
}

void ExampleVendor::BuildTokenRequest(const BackendConfig& config,
                                      absl::string_view client_secret,
                                      HttpRequest& request) const {
  request.url = config.credentials.token_url.empty()
                    ? absl::StrCat(config.base_url, "/v1/token")
                    : config.credentials.token_url;
  request.headers.emplace_back("Content-Type", "application/json");
  request.SetBody(json{{"client", config.credentials.client_id},
                       {"secret", std::string(client_secret)}}
                      .dump(-1, ' ', false, json::error_handler_t::replace));
}

absl::StatusOr<IssuedToken> ExampleVendor::ParseTokenResponse(
    absl::string_view body, absl::Time now) const {
  return ParseTokenJson(body, now);
}

}  // namespace certbridge::example
