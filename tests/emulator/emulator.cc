#include "tests/emulator/emulator.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace certbridge::emulator {
namespace {

constexpr absl::string_view kControlPrefix = "/__emulator/";
constexpr std::size_t kControlBodyLimit = 1024;

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

HttpResponse ControlError(int status, absl::string_view message) {
  return Json(status, nlohmann::json{{"error", message}}.dump());
}

// The first 1 KiB of a body, JSON-safe: bytes outside ASCII (PKCS#12 DER)
// become '.', so the text stays at most 1 KiB once decoded.
std::string PrintableBody(const std::string& body) {
  std::string out = body.substr(0, kControlBodyLimit);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '.';
  }
  return out;
}

// Truncated JSON: a client must fail to parse it.
constexpr char kMalformedBody[] = "{\"data\": {\"id\": \"46d4e120-ed03";

}  // namespace

Emulator::Emulator(EmulatorOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Emulator>> Emulator::Start(
    EmulatorOptions options) {
  std::unique_ptr<Emulator> e(new Emulator(std::move(options)));
  e->leegality_tokens_ = std::make_unique<TokenIssuer>(
      TokenIssuer::Format::kLeegalityJson, e->options_.leegality_client_id,
      e->options_.leegality_client_secret, e->options_.token_ttl);
  e->apinizer_tokens_ = std::make_unique<TokenIssuer>(
      TokenIssuer::Format::kApinizerForm, e->options_.apinizer_client_id,
      e->options_.apinizer_client_secret, e->options_.token_ttl);
  e->leegality_ = std::make_unique<LeegalityApi>(e->options_.leegality_token);
  e->leegality_->set_token_issuer(e->leegality_tokens_.get());
  e->apis_.push_back(e->leegality_.get());
  e->apinizer_ = std::make_unique<ApinizerApi>(e->options_.apinizer_token);
  e->apinizer_->set_token_issuer(e->apinizer_tokens_.get());
  e->apis_.push_back(e->apinizer_.get());
  for (const auto& api : e->options_.extra_apis) e->apis_.push_back(api.get());
  HttpServerOptions server_options;
  server_options.host = e->options_.host;
  server_options.port = e->options_.port;
  server_options.tls_cert_file = e->options_.tls_cert_file;
  server_options.tls_key_file = e->options_.tls_key_file;
  Emulator* self = e.get();
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
      server_options,
      [self](const HttpRequest& request, ConnectionControl& control) {
        return self->Handle(request, control);
      });
  if (!server.ok()) return server.status();
  e->server_ = *std::move(server);
  return e;
}

Emulator::~Emulator() {
  if (server_ != nullptr) server_->Stop();
}

int Emulator::port() const { return server_->port(); }

std::string Emulator::base_url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return absl::StrCat(server_->tls() ? "https://" : "http://", v6 ? "[" : "",
                      options_.host, v6 ? "]" : "", ":", port());
}

int Emulator::handshake_failures() const {
  return server_->handshake_failures();
}

void Emulator::SetTokenLifetime(absl::Duration lifetime) {
  leegality_tokens_->SetTokenLifetime(lifetime);
  apinizer_tokens_->SetTokenLifetime(lifetime);
}

void Emulator::RevokeIssuedTokens() {
  leegality_tokens_->RevokeIssuedTokens();
  apinizer_tokens_->RevokeIssuedTokens();
}

void Emulator::AddFault(FaultSpec fault) { faults_.Add(std::move(fault)); }
void Emulator::ClearFaults() { faults_.Clear(); }
std::vector<RecordedRequest> Emulator::Requests() const {
  return log_.Snapshot();
}
void Emulator::ClearRequests() { log_.Clear(); }

void Emulator::Reset() {
  ReleaseHeld();
  faults_.Clear();
  log_.Clear();
  for (BackendApi* api : apis_) api->Reset();
  leegality_tokens_->Reset();
  apinizer_tokens_->Reset();
}

bool Emulator::WaitForRequest(std::function<bool(const RecordedRequest&)> pred,
                              absl::Duration timeout) {
  return log_.WaitFor(pred, timeout);
}

void Emulator::ReleaseHeld() {
  std::lock_guard<std::mutex> lock(hold_mu_);
  ++release_count_;
}

bool Emulator::WaitUntilHeld(int count, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(hold_mu_);
  return hold_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return held_ >= count; });
}

WaitResult Emulator::Hold(ConnectionControl& control) {
  std::uint64_t released_at = 0;
  {
    std::lock_guard<std::mutex> lock(hold_mu_);
    released_at = release_count_;
    ++held_;
  }
  hold_cv_.notify_all();
  // ConnectionControl::Wait watches the socket but cannot be woken, so the
  // release is looked for between short waits.
  WaitResult result = WaitResult::kElapsed;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(hold_mu_);
      if (release_count_ != released_at) break;
    }
    result = control.Wait(absl::Milliseconds(10));
    if (result != WaitResult::kElapsed) break;
  }
  std::lock_guard<std::mutex> lock(hold_mu_);
  --held_;
  return result;
}

LeegalityState& Emulator::leegality() { return leegality_->state(); }

ApinizerApi& Emulator::apinizer() { return *apinizer_; }

HttpResponse Emulator::Handle(const HttpRequest& request,
                              ConnectionControl& control) {
  if (absl::StartsWith(request.path, kControlPrefix)) {
    return HandleControl(request);
  }
  return HandleBackend(request, control);
}

HttpResponse Emulator::HandleBackend(const HttpRequest& request,
                                     ConnectionControl& control) {
  BackendApi* api = nullptr;
  for (BackendApi* candidate : apis_) {
    if (candidate->Serves(request.path)) {
      api = candidate;
      break;
    }
  }
  RecordedRequest record;
  record.method = request.method;
  record.path = request.target;
  record.headers = request.headers;
  record.body = request.body;
  record.api = api == nullptr ? "" : std::string(api->name());
  const absl::Time arrival = absl::Now();
  record.arrival = arrival;
  const std::uint64_t id = log_.Add(std::move(record));
  auto finish = [&](HttpResponse response, bool client_closed) {
    const int status = response.drop ? 0 : response.status;
    const bool reset = response.drop && !client_closed;
    log_.Update(id, [&](RecordedRequest& r) {
      r.status = status;
      r.reset = reset;
      r.client_closed = client_closed;
    });
    if (options_.on_request) {
      // Without headers and body: the callback logs, and must not see
      // secrets.
      RecordedRequest done;
      done.method = request.method;
      done.path = request.target;
      done.api = api == nullptr ? "" : std::string(api->name());
      done.arrival = arrival;
      done.status = status;
      done.reset = reset;
      done.client_closed = client_closed;
      options_.on_request(done);
    }
    return response;
  };

  std::optional<FaultSpec> fault = faults_.Take(request.method, request.target);
  HttpResponse response;
  if (fault.has_value()) {
    if (fault->reset) {
      response.drop = true;
      return finish(std::move(response), false);
    }
    if (fault->delay_ms > 0) {
      const WaitResult waited =
          control.Wait(absl::Milliseconds(fault->delay_ms));
      if (waited != WaitResult::kElapsed) {
        // Not applied: the client gave up (or the emulator is stopping).
        response.drop = true;
        return finish(std::move(response), waited == WaitResult::kClientClosed);
      }
    }
    if (fault->hold) {
      const WaitResult waited = Hold(control);
      if (waited != WaitResult::kElapsed) {
        response.drop = true;
        return finish(std::move(response), waited == WaitResult::kClientClosed);
      }
    }
    if (fault->malformed) {
      response = Json(fault->status != 0 ? fault->status : 200, kMalformedBody);
    } else if (fault->status != 0) {
      response.status = fault->status;
      response.body = fault->body;
      if (!response.body.empty()) {
        const bool json = !response.body.empty() &&
                          (response.body[0] == '{' || response.body[0] == '[');
        response.headers.emplace_back("Content-Type",
                                      json ? "application/json" : "text/html");
      }
    }
  }
  const bool injected =
      fault.has_value() && (fault->malformed || fault->status != 0);
  if (!injected) {
    if (api != nullptr) {
      response = api->Handle(request);
    } else {
      response = ControlError(
          404, absl::StrCat("no emulated API serves ", request.path));
    }
  }
  if (fault.has_value()) {
    for (const auto& header : fault->headers) {
      response.headers.push_back(header);
    }
    if (fault->reset_after_apply) response.drop = true;
    if (fault->hold_after_apply) {
      const WaitResult waited = Hold(control);
      if (waited != WaitResult::kElapsed) {
        // Applied, but the client never gets the answer.
        response.drop = true;
        return finish(std::move(response), waited == WaitResult::kClientClosed);
      }
    }
  }
  return finish(std::move(response), false);
}

HttpResponse Emulator::HandleControl(const HttpRequest& request) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/__emulator/health") {
    if (method != "GET") return ControlError(405, "use GET");
    return Json(200, "{\"status\":\"ok\"}");
  }
  if (path == "/__emulator/faults") {
    if (method == "DELETE") {
      faults_.Clear();
      return Json(200, "{\"status\":\"ok\"}");
    }
    if (method == "POST") {
      absl::StatusOr<std::vector<FaultSpec>> specs =
          ParseFaultSpecs(request.body);
      if (!specs.ok()) return ControlError(400, specs.status().message());
      for (FaultSpec& f : *specs) faults_.Add(std::move(f));
      return Json(200, nlohmann::json{{"status", "ok"},
                                      {"added", specs->size()},
                                      {"pending", faults_.size()}}
                           .dump());
    }
    return ControlError(405, "use POST or DELETE");
  }
  if (path == "/__emulator/requests") {
    if (method == "DELETE") {
      log_.Clear();
      return Json(200, "{\"status\":\"ok\"}");
    }
    if (method != "GET") return ControlError(405, "use GET or DELETE");
    nlohmann::json out = nlohmann::json::array();
    for (const RecordedRequest& r : log_.Snapshot()) {
      const bool truncated = r.body.size() > kControlBodyLimit;
      out.push_back({{"method", r.method},
                     {"path", r.path},
                     {"headers", r.headers},
                     {"body", PrintableBody(r.body)},
                     {"body_size", r.body.size()},
                     {"body_truncated", truncated},
                     {"status", r.status},
                     {"client_closed", r.client_closed},
                     {"reset", r.reset},
                     {"api", r.api},
                     {"arrival", absl::FormatTime(absl::RFC3339_full, r.arrival,
                                                  absl::UTCTimeZone())}});
    }
    return Json(200, out.dump());
  }
  if (path == "/__emulator/apinizer") {
    // {"error_generation": "current"|"legacy", "failing_environments": [..],
    //  "read_only": bool} -- each key optional.
    if (method != "POST") return ControlError(405, "use POST");
    const nlohmann::json doc = nlohmann::json::parse(
        request.body, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) return ControlError(400, "body must be an object");
    for (const auto& [key, value] : doc.items()) {
      if (key == "error_generation" && value.is_string()) {
        const std::string g = value.get<std::string>();
        if (g != "current" && g != "legacy") {
          return ControlError(400, "error_generation: current or legacy");
        }
        apinizer_->SetErrorGeneration(g == "legacy"
                                          ? ApinizerErrorGeneration::kLegacy
                                          : ApinizerErrorGeneration::kCurrent);
      } else if (key == "failing_environments" && value.is_array()) {
        for (const auto& env : value) {
          if (!env.is_string()) return ControlError(400, "environment names");
          apinizer_->SetEnvironmentFailing(env.get<std::string>(), true);
        }
      } else if (key == "read_only" && value.is_boolean()) {
        apinizer_->SetReadOnly(value.get<bool>());
      } else {
        return ControlError(400, absl::StrCat("unknown or mistyped key ", key));
      }
    }
    return Json(200, "{\"status\":\"ok\"}");
  }
  if (path == "/__emulator/release") {
    if (method != "POST") return ControlError(405, "use POST");
    ReleaseHeld();
    return Json(200, "{\"status\":\"ok\"}");
  }
  if (path == "/__emulator/reset") {
    if (method != "POST") return ControlError(405, "use POST");
    Reset();
    return Json(200, "{\"status\":\"ok\"}");
  }
  return ControlError(404, absl::StrCat("unknown control endpoint ", path));
}

}  // namespace certbridge::emulator
