#include "tests/example_vendor/example_api.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace certbridge::example {
namespace {

using nlohmann::json;

emulator::HttpResponse Json(int status, const json& body) {
  emulator::HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

emulator::HttpResponse Error(int status, const char* message) {
  return Json(status, json{{"error", message}});
}

}  // namespace

bool ExampleApi::Serves(absl::string_view path) const {
  return absl::StartsWith(path, absl::StrCat(kPrefix, "/"));
}

bool ExampleApi::Has(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  return certs_.count(id) != 0;
}

void ExampleApi::Reset() {
  absl::MutexLock lock(&mu_);
  certs_.clear();
  issued_ = 0;
}

emulator::HttpResponse ExampleApi::Handle(
    const emulator::HttpRequest& request) {
  absl::string_view path = request.path;
  absl::ConsumePrefix(&path, kPrefix);
  if (path == "/v1/token" && request.method == "POST") {
    const json body = json::parse(request.body, nullptr, false);
    if (!body.is_object() || body.value("client", "") != kClientId ||
        body.value("secret", "") != kClientSecret) {
      return Error(401, "bad client credentials");
    }
    absl::MutexLock lock(&mu_);
    return Json(200, json{{"access_token", absl::StrCat("issued-", ++issued_)},
                          {"expires_in", 3600}});
  }
  const std::string auth = request.Header("authorization");
  if (auth != absl::StrCat("Bearer ", kToken) &&
      !absl::StartsWith(auth, "Bearer issued-")) {
    return Error(401, "missing or wrong token");
  }
  if (path == "/v1/certs" && request.method == "POST") {
    const json body = json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("id") || !body["id"].is_string()) {
      return Error(400, "id is required");
    }
    const std::string id = body["id"].get<std::string>();
    absl::MutexLock lock(&mu_);
    if (!certs_.emplace(id, 1).second) return Error(409, "exists");
    return Json(201, json{{"id", id}, {"version", 1}});
  }
  if (!absl::ConsumePrefix(&path, "/v1/certs/")) {
    return Error(404, "no such path");
  }
  const std::string id(path);
  absl::MutexLock lock(&mu_);
  auto it = certs_.find(id);
  if (it == certs_.end()) return Error(404, "not found");
  if (request.method == "GET") {
    return Json(200, json{{"id", id}, {"version", it->second}});
  }
  if (request.method == "DELETE") {
    certs_.erase(it);
    emulator::HttpResponse r;
    r.status = 204;
    return r;
  }
  return Error(405, "method not allowed");
}

}  // namespace certbridge::example
