// Leegality response bodies (leegality_json.h): the certificate in any of
// its envelopes, the delete acknowledgement and the error body, all from the
// same untrusted bytes. Properties: no exception escapes (nlohmann::json
// throws on misuse); errors are INVALID_ARGUMENT; a parsed certificate has
// an id, a name that parses back to (backend, id), valid timestamps, and
// survives serialization; error fields are copied from the body, so they are
// never longer than it.
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "server/backends/leegality/leegality_json.h"
#include "server/common/resource_name.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/proto_checks.h"

namespace {

constexpr char kBackend[] = "leegality";

void CheckCertificate(absl::string_view body) {
  auto cert = certbridge::ParseLeegalityCertificate(body, kBackend);
  if (!cert.ok()) {
    FUZZ_CHECK(cert.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(cert->has_leegality());
  const auto& l = cert->leegality();
  FUZZ_CHECK(!l.id().empty());
  auto name = certbridge::ParseCertificateName(cert->name(), "name");
  // Ids are backend data: one that breaks a segment rule (resource_name.h)
  // gives a name the service would reject; names that parse must match.
  if (name.ok()) {
    FUZZ_CHECK(name->backend == kBackend);
    FUZZ_CHECK(!name->has_project);
    FUZZ_CHECK(name->certificate == l.id());
  }
  if (certbridge::fuzz::Strict()) {
    if (l.has_expire_time()) {
      FUZZ_CHECK(certbridge::fuzz::ValidTimestamp(l.expire_time()));
    }
    if (l.has_create_time()) {
      FUZZ_CHECK(certbridge::fuzz::ValidTimestamp(l.create_time()));
    }
  }
  certbridge::fuzz::CheckWireRoundTrip(*cert);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body = certbridge::fuzz::AsText(data, size);
  CheckCertificate(body);

  const absl::Status ack = certbridge::ParseLeegalityDeleteAck(body);
  FUZZ_CHECK(ack.ok() || ack.code() == absl::StatusCode::kInvalidArgument);

  const certbridge::BackendErrorBody error =
      certbridge::ParseLeegalityError(body);
  FUZZ_CHECK(error.code.size() <= body.size());
  FUZZ_CHECK(error.inner_code.size() <= body.size());
  FUZZ_CHECK(error.message.size() <= body.size());
  return 0;
}
