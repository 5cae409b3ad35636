#include "server/backends/idempotent_create_stub.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/resilience/retry_policy.h"

namespace certbridge {

IdempotentCreateStub::IdempotentCreateStub(std::unique_ptr<BackendStub> inner,
                                           IdempotencyStore& store)
    : inner_(std::move(inner)), store_(store) {}

void IdempotentCreateStub::CreateCertificate(
    std::shared_ptr<CallContext> ctx, const ParentName& parent,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  if (request.request_id().empty()) {
    inner_->CreateCertificate(std::move(ctx), parent, request, std::move(done));
    return;
  }
  // The parsed parent, so that two spellings of one parent share ids.
  std::string key =
      absl::StrCat(FormatParentName(parent), "\n", request.request_id());
  const CallContext::Ticket ticket = ctx->NextTicket();
  auto admission =
      store_.Begin(key, IdempotencyStore::FingerprintOf(request), done);
  switch (admission.kind) {
    case IdempotencyStore::Admission::kReplayed:
      done(std::move(admission.result));
      return;
    case IdempotencyStore::Admission::kJoined:
      // Waits for the first call; a cancelled repeat stops waiting.
      ctx->OnCancel(ticket, [store = &store_, key, waiter = admission.waiter] {
        store->Abandon(key, waiter);
      });
      return;
    case IdempotencyStore::Admission::kMismatch:
      done(MakeValidationError(
          reason::kInvalidArgument, "request_id",
          "was already used for a different CreateCertificate request"));
      return;
    case IdempotencyStore::Admission::kProceed:
      if (admission.previous_outcome_unknown) ctx->MarkOutcomeUnknown();
      break;
  }
  inner_->CreateCertificate(
      ctx, parent, request,
      [this, ctx, key = std::move(key),
       done = std::move(done)](absl::StatusOr<v1::Certificate> r) mutable {
        // Only the backend's answers are worth replaying; a failure that
        // never reached it (overload, open circuit, TLS, token endpoint)
        // leaves the id retryable, with any earlier "outcome unknown" kept.
        IdempotencyStore::Outcome outcome = IdempotencyStore::Outcome::kNotSent;
        if (r.ok() || IsBackendAnswer(r.status())) {
          outcome = IdempotencyStore::Outcome::kAnswered;
        } else if (ctx->outcome_unknown()) {
          outcome = IdempotencyStore::Outcome::kUnknown;
        }
        store_.Finish(key, r, outcome);
        done(std::move(r));
      });
}

}  // namespace certbridge
