#include "server/common/failure.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace certbridge {
namespace {

// Not a type.googleapis.com URL: grpc_status.cc only forwards those it
// knows, so this never reaches a caller.
constexpr char kFactsUrl[] = "certbridge.internal/FailureFacts";

}  // namespace

void SetFailureFacts(absl::Status& status, const FailureFacts& facts) {
  if (status.ok()) return;
  status.SetPayload(
      kFactsUrl, absl::Cord(absl::StrCat(static_cast<int>(facts.source), ",",
                                         static_cast<int>(facts.transport), ",",
                                         facts.http_status)));
}

std::optional<FailureFacts> GetFailureFacts(const absl::Status& status) {
  auto payload = status.GetPayload(kFactsUrl);
  if (!payload) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(std::string(*payload), ',');
  int source = 0, transport = 0, http = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &source) ||
      !absl::SimpleAtoi(parts[1], &transport) ||
      !absl::SimpleAtoi(parts[2], &http)) {
    return std::nullopt;
  }
  FailureFacts facts;
  facts.source = static_cast<FailureFacts::Source>(source);
  facts.transport = static_cast<FailureFacts::Transport>(transport);
  facts.http_status = http;
  return facts;
}

}  // namespace certbridge
